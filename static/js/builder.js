// Warn before leaving the builder with unsaved changes. Everything else on the
// page is plain HTML forms enhanced by htmx.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-unsaved-warning]");
  if (!form) return;
  // A form the server refuses (400: more rule fields than it reads) says why in the
  // preview; htmx swaps no 4xx by default. The rules card is left as it is on screen.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && target.id === "preview") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  let dirty = false;
  const markDirty = () => { dirty = true; };
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  // htmx requests from the prefab/add/remove buttons change the rules too.
  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt && event.detail.elt.name === "action") dirty = true;
  });
  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "save") dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
});
