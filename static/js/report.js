/* The report page's column chooser: reorder columns by drag and drop (HTML5) or with the up and
   down buttons (keyboard). The form submits the ticked columns[] checkboxes in list order, so
   the order on screen is the order of the report's columns. Without JavaScript the list keeps
   its order and the ticks still work. Also: feed links select themselves on focus. */
(function () {
  "use strict";

  var list = document.querySelector("[data-report-columns]");
  if (list) {
    var dragged = null;

    var items = function () { return Array.prototype.slice.call(list.children); };

    var move = function (item, direction) {
      if (direction === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (direction === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      }
    };

    items().forEach(function (item) {
      var buttons = item.querySelector(".report-move");
      if (buttons) buttons.hidden = false;

      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("report-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-column"));
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("report-dragging");
        items().forEach(function (other) { other.classList.remove("report-drop-target"); });
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged === item) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        item.classList.add("report-drop-target");
      });
      item.addEventListener("dragleave", function () { item.classList.remove("report-drop-target"); });
      item.addEventListener("drop", function (event) {
        if (!dragged || dragged === item) return;
        event.preventDefault();
        item.classList.remove("report-drop-target");
        // Dropped on a later column: it goes after it; on an earlier one: before it. So a drop
        // anywhere on a column takes that column's place, wherever the pointer lands on it.
        var all = items();
        if (all.indexOf(dragged) < all.indexOf(item)) {
          list.insertBefore(dragged, item.nextElementSibling);
        } else {
          list.insertBefore(dragged, item);
        }
      });
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move]");
      if (!button) return;
      move(button.closest("li"), button.getAttribute("data-move"));
      button.focus();  // keep the keyboard where it was, on the moved column
    });
  }

  document.querySelectorAll("input[data-select-all]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
