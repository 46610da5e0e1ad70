import {w12,w10,seedMsgs,seedEnums,rpcs} from './parse.mjs';
const scalars=['string','int32','int64','bool','double','float','bytes','uint32','uint64','sint32','sint64','fixed64','fixed32','sfixed32','sfixed64'];
const allTypes=new Set([...scalars,'google.protobuf.Timestamp','google.protobuf.Empty',...Object.keys(seedMsgs),...Object.keys(seedEnums)]);
const out={}, problems=[];
for(const [name,rows] of Object.entries(seedMsgs)){
  if(name.endsWith('Entry')) continue;
  const a=w12.msgs[name], b=w10.msgs[name];
  const cand=[...(a?.fields??[]),...(b?.fields??[])];
  const fields=[];
  for(const row of rows){
    const fn=cand.map(f=>f.name).filter(n=>row.startsWith(n)).sort((x,y)=>y.length-x.length);
    if(!fn.length){continue;}
    // ambiguity: try each candidate name with parse success
    let parsed=null;
    for(const fname of fn){
      let rest=row.slice(fname.length); let label='';
      let m;
      if((m=rest.match(/^oneof (\w+?)(?=[A-Z.]|string|int|bool|double|bytes|float)/))){ label='oneof '+m[1]; rest=rest.slice(m[0].length);} 
      else for(const l of ['optional','repeated','map']) if(rest.startsWith(l)){label=l;rest=rest.slice(l.length);break;}
      const t=[...allTypes].filter(t=>rest.startsWith(t)).sort((x,y)=>y.length-x.length)[0];
      if(!t) continue;
      parsed={name:fname,label,type:t,desc:rest.slice(t.length)}; break;
    }
    if(!parsed){problems.push(`${name}: unparsed ${row.slice(0,80)}`);continue;}
    const f12=a?.fields.find(f=>f.name===parsed.name), f10=b?.fields.find(f=>f.name===parsed.name);
    parsed.f12=f12; parsed.f10=f10;
    fields.push(parsed);
  }
  out[name]={fields,file:(a??b).file};
}
export {out,problems};
