import fs from 'node:fs';
const R=new URL('../../../shared/reference/',import.meta.url).pathname;
const seed=fs.readFileSync(R+'seeds/'+fs.readdirSync(R+'seeds').find(f=>f.startsWith('001')),'utf8');
function wire(file){
  const txt=fs.readFileSync(R+file,'utf8'); const msgs={}, enums={}; let cur='';
  for(const line of txt.split('\n')){
    const h=line.match(/^## (\S+)/); if(h){cur=h[1];continue;}
    const m=line.match(/^- \*\*(\S+)\*\*: (.*)$/);
    if(m){ const fields=m[2].split('; ').map(s=>{const mm=s.match(/^(\d+):(\S+) (.*)$/); if(!mm) return null;
        let rest=mm[3]; let oneof=null; const o=rest.match(/ \[oneof (\S+)\]$/); if(o){oneof=o[1];rest=rest.slice(0,o.index);}
        let label=''; const l=rest.match(/^(optional|repeated) (.*)$/); if(l){label=l[1];rest=l[2];}
        return {num:+mm[1],name:mm[2],type:rest,label,oneof};}).filter(Boolean);
      msgs[m[1]]={file:cur,fields}; continue;}
    const e=line.match(/^- \*enum\* \*\*(\S+)\*\*: (.*)$/);
    if(e){enums[e[1]]={file:cur,values:e[2].split(', ').map(s=>{const [n,v]=s.split('=');return {name:n,num:+v};})};}
  }
  return {msgs,enums};
}
const w12=wire('wire-fields-1.2.md'), w10=wire('wire-fields-0.10.1.md');
// seed parse
const lines=seed.split('\n');
const seedMsgs={}, seedEnums={}, rpcs=[];
for(let i=0;i<lines.length;i++){
  const L=lines[i];
  let m;
  if((m=L.match(/^RPC (\w+)$/))){ // next: header, then row
    let j=i+1; while(!lines[j].startsWith('Request TypeResponse')) j++; rpcs.push({name:m[1],row:lines[j+1]}); }
  if((m=L.match(/^Message (\S+)$/))){
    let j=i+1; const rows=[]; let inTable=false;
    for(;j<lines.length && !/^(Message|Enum|RPC) \S+$/.test(lines[j]) ;j++){
      if(lines[j].startsWith('FieldLabelTypeDescription')){inTable=true;continue;}
      if(inTable && lines[j].trim()) rows.push(lines[j]);
      
    }
    seedMsgs[m[1]]=rows;
  }
  if((m=L.match(/^Enum (\S+)$/))){
    let j=i+1; const rows=[]; let inTable=false;
    for(;j<lines.length && !/^(Message|Enum|RPC) \S+$/.test(lines[j]) ;j++){
      if(lines[j].startsWith('NameNumberDescription')){inTable=true;continue;}
      if(inTable && lines[j].trim()) rows.push(lines[j]);
      
    }
    seedEnums[m[1]]=rows;
  }
}
export {w12,w10,seedMsgs,seedEnums,rpcs,seed};
