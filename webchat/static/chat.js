/* The chat page, live: messages and buttons go to /chat/api/send without a
   reload, new turns are added to the log (announced by screen readers), the
   case reference gets a copy button. Without this script the same page
   works as plain forms. No third-party code, no storage, no tracking. */
(function () {
  "use strict";
  var main = document.getElementById("chat");
  var form = document.getElementById("send");
  var list = document.getElementById("messages");
  var box = document.getElementById("message");
  var status = document.getElementById("status");
  if (!main || !form || !list || !box || !window.fetch || !window.JSON) { return; }
  var csrf = main.getAttribute("data-csrf");
  var sendButton = form.querySelector("button[type=submit]");
  var URL_RE = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;
  var busy = false;

  function say(text) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }

  function appendText(parent, text, links) {
    var lines = text.split("\n");
    lines.forEach(function (line, index) {
      if (index > 0) { parent.appendChild(document.createElement("br")); }
      var last = 0;
      if (links) {
        line.replace(URL_RE, function (address, offset) {
          parent.appendChild(document.createTextNode(line.slice(last, offset)));
          var link = document.createElement("a");
          link.href = address;
          link.textContent = address;
          parent.appendChild(link);
          last = offset + address.length;
          return address;
        });
      }
      parent.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  function copyButton(reference) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.setAttribute("data-reference", reference);
    button.textContent = "Copy reference";
    button.hidden = !(navigator.clipboard && window.isSecureContext);
    return button;
  }

  function turnItem(turn) {
    var item = document.createElement("li");
    item.className = "turn " + (turn.who === "resident" ? "resident" : "bot");
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = turn.who === "resident" ? "You:" : "Council:";
    var text = document.createElement("span");
    text.className = "text";
    appendText(text, turn.text || "", turn.who !== "resident");
    item.appendChild(who);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(text);
    if (turn.reference) {
      var reference = document.createElement("span");
      reference.className = "reference";
      reference.appendChild(document.createTextNode("Your reference is "));
      var value = document.createElement("strong");
      value.className = "reference-value";
      value.textContent = turn.reference;
      reference.appendChild(value);
      reference.appendChild(document.createTextNode(". Please write it down. "));
      reference.appendChild(copyButton(turn.reference));
      item.appendChild(reference);
    }
    if (turn.buttons && turn.buttons.length) {
      var choices = document.createElement("form");
      choices.className = "choices";
      choices.method = "post";
      choices.action = "/chat/send";
      turn.buttons.forEach(function (title, index) {
        var button = document.createElement("button");
        button.type = "submit";
        button.name = "choice";
        button.value = String(index);
        button.textContent = title;
        choices.appendChild(button);
      });
      item.appendChild(choices);
    }
    return item;
  }

  function removeChoices() {
    Array.prototype.forEach.call(list.querySelectorAll("form.choices"), function (choices) {
      choices.parentNode.removeChild(choices);
    });
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    main.setAttribute("aria-busy", on ? "true" : "false");
  }

  function send(payload) {
    if (busy) { return Promise.resolve(false); }
    setBusy(true);
    say("Sending");
    return fetch("/chat/api/send", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      setBusy(false);
      if (!answer.ok) {
        if (answer.body && answer.body.error === "expired") { form.submit(); return false; }
        say((answer.body && answer.body.notice) || "Sorry, that did not work. Please try again.");
        return false;
      }
      removeChoices();
      var previous = list.querySelector("#latest");
      if (previous) { previous.removeAttribute("id"); }
      var item = null;
      answer.body.turns.forEach(function (turn) { item = turnItem(turn); list.appendChild(item); });
      if (item) { item.id = "latest"; item.scrollIntoView({ block: "nearest" }); }
      say("");
      var first = list.querySelector("form.choices button");
      (first || box).focus();
      return true;
    }).catch(function () {
      setBusy(false);
      say("Sorry, your message could not be sent. It is still in the box: please try again.");
      return false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = box.value.trim();
    if (!text) { say("Please type your message first."); box.focus(); return; }
    // Cleared only if it still holds what was sent: a quick typist's next
    // message, typed while this one was on its way, stays.
    send({ message: text }).then(function (sent) { if (sent && box.value.trim() === text) { box.value = ""; } });
  });

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  list.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var choice = target.closest("form.choices button");
    if (choice) {
      event.preventDefault();
      send({ choice: choice.value });
      return;
    }
    var copy = target.closest("button.copy");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.getAttribute("data-reference")).then(function () {
        say("Reference copied");
      }, function () { say("Could not copy: please write the reference down."); });
    }
  });

  if (navigator.clipboard && window.isSecureContext) {
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) { button.hidden = false; });
  }
}());
