/*
 * A small rich-text editor for course material (training.manage_views).
 *
 * Progressive enhancement: every <textarea data-richtext> works on its own as a
 * text area. With this script, it is hidden and an editable box with a toolbar
 * (bold, italic, heading, bulleted and numbered lists, link) takes its place;
 * the box's HTML is copied back into the text area on every change and on
 * submit, so the form posts exactly what the text area would. The server
 * cleans the HTML (training.richtext): that is the security boundary. The
 * editor reduces what it shows, and what is pasted, to the same formatting
 * too, so a refused form's raw input never reaches the page's live DOM.
 *
 * The toolbar comes from <template id="richtext-toolbar"> in the page, whose
 * button labels are translated there. No inline script or style: CSP.
 */
(function () {
  "use strict";

  var HEADING = "h3";
  // What the server keeps (training.richtext); anything else is unwrapped, or dropped with its content.
  var TAGS = /^(P|BR|STRONG|B|EM|I|U|S|H2|H3|H4|UL|OL|LI|BLOCKQUOTE|A|CODE|PRE|HR|TABLE|THEAD|TBODY|TR|TH|TD)$/i;
  var DROPPED = /^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|TEMPLATE|NOSCRIPT|SVG|MATH|TITLE|META|LINK|HEAD)$/i;
  var ATTRIBUTES = { A: ["href", "title"], TH: ["scope"] };
  // Blocks the server would unwrap (running their lines together) become the nearest kept block.
  var RENAMED = { DIV: "p", SECTION: "p", ARTICLE: "p", HEADER: "p", FOOTER: "p", H1: "h2", H5: "h4", H6: "h4" };
  var LINK = /^(https?:|mailto:)/i;

  function cleanChildren(parent) {
    var children = Array.prototype.slice.call(parent.childNodes);
    for (var i = 0; i < children.length; i += 1) {
      var child = children[i];
      if (child.nodeType === 3) {
        continue; // text
      }
      if (child.nodeType !== 1 || DROPPED.test(child.nodeName)) {
        parent.removeChild(child); // comments, scripts, styles
        continue;
      }
      var tag = child.nodeName.toUpperCase(); // SVG and MathML names are lower case
      if (RENAMED[tag]) {
        var renamed = child.ownerDocument.createElement(RENAMED[tag]);
        while (child.firstChild) {
          renamed.appendChild(child.firstChild);
        }
        parent.replaceChild(renamed, child);
        child = renamed;
      }
      cleanChildren(child);
      if (!TAGS.test(child.nodeName)) {
        while (child.firstChild) {
          parent.insertBefore(child.firstChild, child);
        }
        parent.removeChild(child);
        continue;
      }
      var keep = ATTRIBUTES[child.nodeName.toUpperCase()] || [];
      var attributes = Array.prototype.slice.call(child.attributes);
      for (var j = 0; j < attributes.length; j += 1) {
        var name = attributes[j].name;
        if (keep.indexOf(name) < 0 || (name === "href" && !LINK.test(attributes[j].value.trim()))) {
          child.removeAttribute(name);
        }
      }
    }
  }

  // Parsed in an inert document (nothing runs, nothing loads), then reduced to the kept formatting:
  // the text area may hold what was just typed and refused, not only what the server cleaned.
  function sanitize(html) {
    var doc = new DOMParser().parseFromString(html || "", "text/html");
    cleanChildren(doc.body);
    return doc.body.innerHTML;
  }

  function currentBlock(editor) {
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount) {
      return null;
    }
    var node = selection.getRangeAt(0).startContainer;
    while (node && node !== editor) {
      if (node.nodeType === 1 && /^(H[2-4]|P|LI|BLOCKQUOTE)$/.test(node.nodeName)) {
        return node;
      }
      node = node.parentNode;
    }
    return null;
  }

  function run(editor, command, template) {
    editor.focus();
    if (command === "heading") {
      var block = currentBlock(editor);
      var isHeading = block && block.nodeName.toLowerCase() === HEADING;
      document.execCommand("formatBlock", false, isHeading ? "p" : HEADING);
    } else if (command === "link") {
      var address = window.prompt(template.getAttribute("data-link-prompt") || "https://", "https://");
      if (address && /^(https?:|mailto:)/i.test(address.trim())) {
        document.execCommand("createLink", false, address.trim());
      }
    } else {
      document.execCommand(command, false, null);
    }
  }

  function enhance(textarea, template) {
    var toolbar = template.content.firstElementChild.cloneNode(true);
    var editor = document.createElement("div");
    editor.className = "richtext-editor";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    editor.innerHTML = sanitize(textarea.value);

    var label = textarea.id && document.querySelector('label[for="' + textarea.id + '"]');
    if (label) {
      if (!label.id) {
        label.id = textarea.id + "_label";
      }
      editor.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () {
        editor.focus();
      });
    }
    var described = textarea.getAttribute("aria-describedby");
    if (described) {
      editor.setAttribute("aria-describedby", described);
    }
    if (textarea.getAttribute("aria-invalid")) {
      editor.setAttribute("aria-invalid", textarea.getAttribute("aria-invalid"));
    }

    function mirror() {
      textarea.value = editor.innerHTML;
    }

    toolbar.addEventListener("mousedown", function (event) {
      // Keep the selection in the editor while a button is pressed.
      if (event.target.closest("button")) {
        event.preventDefault();
      }
    });
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-command]");
      if (!button) {
        return;
      }
      run(editor, button.getAttribute("data-command"), template);
      mirror();
    });
    editor.addEventListener("paste", function (event) {
      // Pasted from a word processor: its styles and wrappers go, the formatting we keep stays.
      var data = event.clipboardData;
      if (!data) {
        return;
      }
      var pasted = data.getData("text/html");
      event.preventDefault();
      if (pasted) {
        document.execCommand("insertHTML", false, sanitize(pasted));
      } else {
        document.execCommand("insertText", false, data.getData("text/plain"));
      }
      mirror();
    });
    editor.addEventListener("input", mirror);
    editor.addEventListener("blur", mirror);
    if (textarea.form) {
      textarea.form.addEventListener("submit", mirror);
    }

    textarea.hidden = true;
    textarea.parentNode.insertBefore(toolbar, textarea);
    textarea.parentNode.insertBefore(editor, textarea);
  }

  function start() {
    var template = document.getElementById("richtext-toolbar");
    if (
      !template ||
      !("content" in template) ||
      typeof document.execCommand !== "function" ||
      typeof window.DOMParser !== "function"
    ) {
      return; // the plain text areas stay
    }
    // New paragraphs as <p> (a <div> is not kept by the server's cleaning) and
    // formatting as tags rather than style attributes.
    try {
      document.execCommand("defaultParagraphSeparator", false, "p");
      document.execCommand("styleWithCSS", false, false);
    } catch (error) {
      // Older browsers: their defaults still produce cleanable HTML.
    }
    var areas = document.querySelectorAll("textarea[data-richtext]");
    for (var i = 0; i < areas.length; i += 1) {
      enhance(areas[i], template);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
