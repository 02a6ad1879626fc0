// Show/hide for the pages' password fields. Each button stays hidden until
// this runs: without JavaScript the field is a plain password field.
for (const button of document.querySelectorAll("[data-password-toggle]")) {
  const input = document.getElementById(button.getAttribute("aria-controls") ?? "");
  if (!input) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = show ? "Hide" : "Show";
  });
}
