"use strict";
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = document.getElementById("login-token").value;
  const res = await fetch("/api/login", {
    method: "POST", credentials: "same-origin",
    headers: {"content-type": "application/json"}, body: JSON.stringify({token}),
  });
  if (res.ok) { window.location.href = "/"; return; }
  const err = document.getElementById("login-error");
  err.textContent = res.status === 401 ? "Wrong token." : `Sign-in failed (${res.status}).`;
  err.hidden = false;
});
