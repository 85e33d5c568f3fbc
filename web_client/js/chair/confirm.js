// A two-step confirmation for the chair's heavy buttons (mute all, clear the list): the
// first press arms the button and says what the next will do, the second acts; an armed
// button disarms itself after four seconds.

import { t } from "../i18n.js";
import { announce, setText } from "../ui.js";

export function armed(button, labelKey, confirmKey, action) {
  let timer = 0;
  button.addEventListener("click", () => {
    if (button.dataset.armed) {
      delete button.dataset.armed;
      clearTimeout(timer);
      setText(button, t(labelKey));
      action(button);
      return;
    }
    button.dataset.armed = "1";
    setText(button, t(confirmKey));
    announce(t(confirmKey));
    timer = setTimeout(() => {
      delete button.dataset.armed;
      setText(button, t(labelKey));
    }, 4000);
  });
}
