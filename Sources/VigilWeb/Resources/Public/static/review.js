// Hash review: keys 0-5 press the category button with that key, unless the reviewer is typing in a field.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var button = document.querySelector('#vote-form button[data-key="' + event.key + '"]');
  if (!button) return;
  event.preventDefault();
  button.click();
});
