// Seat assignment: a small inline editor in a participant's row. "Seat" opens a text field;
// Enter assigns the seat typed (an empty field clears the participant's current seat),
// Escape or leaving the field cancels.

import { $ } from "../ui.js";
import { client, command } from "./client.js";

export function openSeatEditor(li, p) {
  const editor = li.querySelector(".p-seat-edit");
  const input = editor.querySelector("input");
  const button = li.querySelector("button[data-action=seat]");
  editor.hidden = false;
  li.classList.add("editing-seat");
  button.setAttribute("aria-expanded", "true");
  input.value = p.seat || "";
  input.focus();
  input.select();
}

export function closeSeatEditor(li, focusButton = false) {
  const editor = li.querySelector(".p-seat-edit");
  if (editor.hidden) return;
  const button = li.querySelector("button[data-action=seat]");
  editor.hidden = true;
  li.classList.remove("editing-seat");
  button.setAttribute("aria-expanded", "false");
  if (focusButton) button.focus();
}

async function submitSeat(li) {
  const p = client.state.participants[li.dataset.id];
  const input = li.querySelector(".p-seat-input");
  const value = input.value.trim();
  closeSeatEditor(li, true); // focus back on the Seat button (not disabled: it would lose focus)
  if (!p || value === (p.seat || "")) return;
  if (value) await command("seat.assign", { seat: value, participant: p.id });
  else await command("seat.assign", { seat: p.seat, participant: null });
}

$("#people").addEventListener("keydown", (e) => {
  if (!e.target.matches(".p-seat-input")) return;
  const li = e.target.closest(".person");
  if (e.key === "Enter") {
    e.preventDefault();
    submitSeat(li);
  } else if (e.key === "Escape") {
    e.preventDefault();
    closeSeatEditor(li, true);
  }
});
$("#people").addEventListener("focusout", (e) => {
  if (!e.target.matches(".p-seat-input")) return;
  const li = e.target.closest(".person");
  // leaving the field (not for its own Seat button, which toggles) cancels
  if (e.relatedTarget !== li.querySelector("button[data-action=seat]")) closeSeatEditor(li);
});
