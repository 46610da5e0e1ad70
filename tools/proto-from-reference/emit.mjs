import fs from 'node:fs';
import {w12,w10,seedMsgs,seedEnums,rpcs} from './parse.mjs';
import {out} from './build.mjs';
const last=s=>s.split('.').pop();
// extra fields from 1.2 for B-WIRE-2 (wire-compatible additions)
const extras={
  VariableDef:[{name:'type_def',num:5,label:'optional',type:'TypeDefinition'}],
  Edge:[{name:'expression_condition',num:4,label:'',type:'VariableAssignment'}],
  VariableAssignment:[{name:'node_output',num:5,label:'oneof source',type:'VariableAssignment.NodeOutputReference'},{name:'expression',num:6,label:'oneof source',type:'VariableAssignment.Expression'}],
};
const extraMsgs={
  'TypeDefinition':{file:'type_definition.proto',fields:[{name:'primitive_type',num:1,label:'oneof defined_type',type:'VariableType'},{name:'masked',num:4,label:'',type:'bool'}]},
  'VariableAssignment.NodeOutputReference':{file:'common_wfspec.proto',fields:[{name:'node_name',num:1,label:'',type:'string'}]},
  'VariableAssignment.Expression':{file:'common_wfspec.proto',fields:[{name:'lhs',num:1,label:'',type:'VariableAssignment'},{name:'mutation_type',num:2,label:'oneof operation',type:'VariableMutationType'},{name:'comparator',num:4,label:'oneof operation',type:'Comparator'},{name:'rhs',num:3,label:'',type:'VariableAssignment'}]},
};
const msgs={};
for(const [name,{fields,file}] of Object.entries(out)){
  const fs2=fields.map(f=>{
    let src;
    const t12=f.f12? last(f.f12.type.replace(/^map<string,(.*)>$/,'$1')):null;
    const same12 = f.f12 && (f.label==='map' || t12===last(f.type));
    if(same12) src=f.f12; else if(f.f10) src=f.f10; else throw new Error('no wire '+name+'.'+f.name);
    let type=f.type, label=f.label;
    if(label==='map'){ type=src.type; label=''; }
    if(label==='' && (f.f12?.label==='optional') && same12 && !/^map/.test(type)) label='optional';
    return {name:f.name,num:src.num,label,type};
  });
  for(const e of extras[name]??[]) fs2.push(e);
  msgs[name]={file,fields:fs2};
}
Object.assign(msgs,extraMsgs);
// file of a top-level name
const enums={};
for(const [name,rows] of Object.entries(seedEnums)){
  const w=w12.enums[name]??w10.enums[name];
  const wn=[...(w12.enums[name]?.values??[]),...(w10.enums[name]?.values??[])];
  // A few seed rows were flattened into markdown-table text ("| | NAME | 5 | …"); recover those values too.
  const flat=rows.flatMap(r=>[...r.matchAll(/\| ([A-Z][A-Z0-9_]*) \| (\d+) \|/g)].map(m=>m[1]+m[2]));
  const vals=[...rows,...flat].map(r=>{const c=wn.filter(v=>r.startsWith(v.name+String(v.num))).sort((a,b)=>b.name.length-a.name.length)[0]; if(c) return {name:c.name,num:c.num}; const m=r.match(/^([A-Z][A-Z0-9_]*?[A-Z_])(\d+)(\D.*)?$/); if(!m) return null; console.error('seed-only enum value',name,m[1],m[2]); return {name:m[1],num:+m[2]};}).filter(Boolean);
  // sanity: compare with wire names
  enums[name]={file:w.file,values:vals};
  for(const v of vals) if(!w.values.find(x=>x.num===v.num)) console.error('enum value not in wire',name,v);
}
const topFile=n=>{const top=n.split('.')[0]; return (msgs[top]??enums[top]).file;};
const files={};
const all=[...Object.keys(msgs).map(n=>['m',n]),...Object.keys(enums).map(n=>['e',n])];
function emitEnum(n,ind){const e=enums[n];const sn=last(n);let s=`${ind}enum ${sn} {\n`;for(const v of e.values)s+=`${ind}  ${v.name} = ${v.num};\n`;return s+`${ind}}\n`;}
function emitMsg(n,ind,deps){const m=msgs[n];let s=`${ind}message ${last(n)} {\n`;
  const oneofs={};
  for(const f of m.fields){ if(f.label.startsWith('oneof ')){(oneofs[f.label.slice(6)]??=[]).push(f);} }
  const done=new Set();
  for(const f of m.fields){
    const tt=f.type.replace(/^map<string,(.*)>$/,'$1'); if(!/^(string|int32|int64|bool|double|bytes|float)$/.test(tt)) deps.add(tt);
    if(f.label.startsWith('oneof ')){const o=f.label.slice(6); if(done.has(o))continue; done.add(o);
      s+=`${ind}  oneof ${o} {\n`; for(const g of oneofs[o]) {s+=`${ind}    ${g.type} ${g.name} = ${g.num};\n`;} s+=`${ind}  }\n`; continue;}
    s+=`${ind}  ${f.label?f.label+' ':''}${f.type} ${f.name} = ${f.num};\n`;
  }
  for(const [kind,k] of all) if(k.startsWith(n+'.') && !k.slice(n.length+1).includes('.')) s+=kind==='m'?emitMsg(k,ind+'  ',deps):emitEnum(k,ind+'  ');
  return s+`${ind}}\n`;}
const deps={};
for(const [kind,n] of all){ if(n.includes('.'))continue; const f=topFile(n); files[f]??=''; deps[f]??=new Set();
  files[f]+= '\n'+(kind==='m'?emitMsg(n,'',deps[f]):emitEnum(n,''));}
// service
const allTypes=[...Object.keys(msgs),'google.protobuf.Empty'];
let svc='\nservice LittleHorse {\n'; const sdeps=new Set();
for(const r of rpcs){ const row=r.row.replace(/^\./,'');
  const req=allTypes.filter(t=>row.startsWith(t)||row.startsWith('.'+t)).sort((a,b)=>b.length-a.length)[0];
  const rest=row.slice(req.length).replace(/^\./,'');
  const res=allTypes.filter(t=>rest.startsWith(t)).sort((a,b)=>b.length-a.length)[0];
  if(!req||!res) throw new Error('rpc '+r.name+' '+row);
  sdeps.add(req); sdeps.add(res);
  const stream=r.name==='PollTask';
  svc+=`  rpc ${r.name}(${stream?'stream ':''}${req}) returns (${stream?'stream ':''}${res});\n`;
}
svc+='}\n'; files['service.proto']=(files['service.proto']??'')+svc; deps['service.proto']??=new Set(); for(const d of sdeps) deps['service.proto'].add(d);
const OUT=new URL('../../proto/littlehorse/',import.meta.url).pathname; fs.mkdirSync(OUT,{recursive:true});
for(const [f,body] of Object.entries(files)){
  const imps=new Set();
  for(const d of deps[f]){ if(d==='google.protobuf.Timestamp'){imps.add('google/protobuf/timestamp.proto');continue;} if(d==='google.protobuf.Empty'){imps.add('google/protobuf/empty.proto');continue;}
    const tf=topFile(d.split('.')[0]); if(tf!==f) imps.add('littlehorse/'+tf);}
  const hdr=`// Pony's copy of the LittleHorse API, written from the API reference with LittleHorse's field numbers.\nsyntax = "proto3";\n\npackage littlehorse;\n\n${[...imps].sort().map(i=>`import "${i}";`).join('\n')}\n`;
  fs.writeFileSync(OUT+f,hdr+body);
}
console.log(Object.keys(files));
