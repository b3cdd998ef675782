// Type-ahead for a comma-separated list of tags. A <datalist> suggests whole values,
// so each suggestion is what is typed so far plus one more existing tag name; a
// name not in the list is simply typed (and becomes a new tag when saved).
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[list='tag-names']")) {
    const list = document.getElementById("tag-names");
    const names = Array.from(list.options, (option) => option.value);
    input.addEventListener("input", () => {
      const parts = input.value.split(",");
      const typing = parts.pop().trim().toLowerCase();
      const chosen = new Set(parts.map((part) => part.trim().toLowerCase()));
      const head = parts.length ? parts.map((part) => part.trim()).join(", ") + ", " : "";
      const options = names
        .filter((name) => !chosen.has(name.toLowerCase()) && name.toLowerCase().startsWith(typing))
        .slice(0, 50)
        .map((name) => new Option("", head + name));
      list.replaceChildren(...options);
    });
  }
});
