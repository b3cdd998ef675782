// Warn before leaving the builder with unsaved changes. Everything else on the
// page is plain HTML forms enhanced by htmx.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-unsaved-warning]");
  if (!form) return;
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
