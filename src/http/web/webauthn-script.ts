// The small inline scripts that call navigator.credentials for WebAuthn: they fetch options from
// the server (JSON, base64url), convert them to ArrayBuffers, run the ceremony, and post the result
// back in the JSON shape @simplewebauthn/server reads. No library: a few lines the CSP can nonce.
const helpers = `
const b2a=(s)=>{s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';const b=atob(s);const u=new Uint8Array(b.length);for(let i=0;i<b.length;i++)u[i]=b.charCodeAt(i);return u.buffer;};
const a2b=(buf)=>{const u=new Uint8Array(buf);let s='';for(const c of u)s+=String.fromCharCode(c);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');};
const post=async(url,body)=>{const r=await fetch(url,{method:'POST',headers:{'content-type':'application/json','x-csrf-token':CSRF},body:JSON.stringify(body||{}),credentials:'same-origin'});return r.json();};
const fail=(msg)=>{const e=document.getElementById('webauthn-status');e.textContent=msg;e.className='alert';e.setAttribute('role','alert');e.tabIndex=-1;e.focus();};
`;

export function loginWebAuthnScript(csrf: string, failMsg: string): string {
  return `(()=>{const CSRF=${JSON.stringify(csrf)};${helpers}
const btn=document.getElementById('webauthn-login');if(!btn)return;
btn.addEventListener('click',async()=>{try{
const o=await post('/_rempart/login/webauthn/options');
o.challenge=b2a(o.challenge);o.allowCredentials=(o.allowCredentials||[]).map(c=>({...c,id:b2a(c.id)}));
const c=await navigator.credentials.get({publicKey:o});
const r=c.response;
const res=await post('/_rempart/login/webauthn',{response:{id:c.id,rawId:a2b(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment,
response:{clientDataJSON:a2b(r.clientDataJSON),authenticatorData:a2b(r.authenticatorData),signature:a2b(r.signature),userHandle:r.userHandle?a2b(r.userHandle):undefined}}});
if(res.next)location.assign(res.next);else fail(${JSON.stringify(failMsg)});
}catch(e){fail(${JSON.stringify(failMsg)});}});})();`;
}

export function registerWebAuthnScript(csrf: string, failMsg: string): string {
  return `(()=>{const CSRF=${JSON.stringify(csrf)};${helpers}
const form=document.getElementById('webauthn-register');if(!form)return;
form.addEventListener('submit',async(ev)=>{ev.preventDefault();try{
const o=await post('/_rempart/account/webauthn/options');
o.challenge=b2a(o.challenge);o.user.id=b2a(o.user.id);o.excludeCredentials=(o.excludeCredentials||[]).map(c=>({...c,id:b2a(c.id)}));
const c=await navigator.credentials.create({publicKey:o});
const r=c.response;
const res=await post('/_rempart/account/webauthn',{name:document.getElementById('webauthn-name').value,response:{id:c.id,rawId:a2b(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment,
response:{clientDataJSON:a2b(r.clientDataJSON),attestationObject:a2b(r.attestationObject),transports:r.getTransports?r.getTransports():[]}}});
if(res.next)location.assign(res.next);else fail(${JSON.stringify(failMsg)});
}catch(e){fail(${JSON.stringify(failMsg)});}});})();`;
}
