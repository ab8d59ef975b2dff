// A structured editor for a record's corrected payload.
//
// Turns <textarea data-json-editor> into labelled fields (objects as groups,
// lists as numbered entries with Add/Remove), keeps the textarea in step, and,
// when the textarea names a JSON Schema (data-schema = id of a json_script),
// checks the payload in the browser and shows each problem beside its field
// before anything is sent. The server checks again on save; without
// JavaScript the plain textarea still works.
(function () {
  "use strict";

  // ---- a small JSON Schema check (the keywords our flows' schemas use) -----
  var TYPE_WORDS = {
    string: "text", integer: "a whole number", number: "a number",
    object: "an object", array: "a list", boolean: "true or false", null: "empty"
  };

  function typeOf(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
  }

  function hasType(value, wanted) {
    var actual = typeOf(value);
    return wanted === actual || (wanted === "number" && actual === "integer");
  }

  function join(path, key) { return path ? path + "." + key : String(key); }

  function check(schema, value, path, errors) {
    if (!schema || typeof schema !== "object") return;
    if (schema.type) {
      var kinds = Array.isArray(schema.type) ? schema.type : [schema.type];
      if (!kinds.some(function (k) { return hasType(value, k); })) {
        errors.push([path, "must be " + kinds.map(function (k) {
          return TYPE_WORDS[k] || k; }).join(" or ") + "."]);
        return;
      }
    }
    if (schema.enum && schema.enum.indexOf(value) === -1) {
      errors.push([path, "must be one of " + schema.enum.join(", ") + "."]);
    }
    if (typeof value === "string") {
      if (schema.minLength && value.length < schema.minLength) {
        errors.push([path, schema.minLength === 1 ? "must not be empty."
          : "must be at least " + schema.minLength + " characters."]);
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        errors.push([path, "must be at most " + schema.maxLength + " characters."]);
      }
      if (schema.pattern && !(new RegExp(schema.pattern)).test(value)) {
        var title = schema.title || "";
        errors.push([path, title.indexOf("YYYY-MM-DD") !== -1
          ? "must be a date written YYYY-MM-DD."
          : (schema.pattern.indexOf("[0-9]") !== -1 ? "must be a number."
            : "has the wrong form.")]);
      }
    }
    if (typeof value === "number") {
      if (schema.minimum !== undefined && value < schema.minimum) {
        errors.push([path, "must be " + schema.minimum + " or more."]);
      }
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
        errors.push([path, "must be more than " + schema.exclusiveMinimum + "."]);
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        errors.push([path, "must be " + schema.maximum + " or less."]);
      }
    }
    if (Array.isArray(value)) {
      if (schema.minItems && value.length < schema.minItems) {
        errors.push([path, "needs at least " + schema.minItems +
          (schema.minItems === 1 ? " entry." : " entries.")]);
      }
      value.forEach(function (item, i) { check(schema.items, item, join(path, i), errors); });
    }
    if (typeOf(value) === "object") {
      (schema.required || []).forEach(function (name) {
        if (!(name in value)) errors.push([join(path, name), "is required."]);
      });
      Object.keys(schema.properties || {}).forEach(function (name) {
        if (name in value) check(schema.properties[name], value[name], join(path, name), errors);
      });
    }
  }

  function validate(schema, value) {
    var errors = [];
    if (schema) check(schema, value, "", errors);
    return errors;
  }

  // ---- the structured form ---------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function sub(schema, key) {
    if (!schema) return null;
    if (typeof key === "number") return schema.items || null;
    return (schema.properties || {})[key] || null;
  }

  function blankFor(schema) {
    var kinds = schema && schema.type ? [].concat(schema.type) : ["string"];
    if (kinds.indexOf("object") !== -1) {
      var made = {};
      (schema.required || []).forEach(function (name) {
        made[name] = blankFor((schema.properties || {})[name]);
      });
      return made;
    }
    if (kinds.indexOf("array") !== -1) return [];
    return "";
  }

  function Editor(textarea, schema) {
    this.textarea = textarea;
    this.schema = schema;
    this.root = el("div", { className: "lb-je" });
    this.summary = el("div", { className: "lb-je-summary", role: "alert", "aria-live": "polite" });
    this.fields = el("div", { className: "lb-je-fields" });
    this.toggle = el("button", { type: "button", className: "button lb-je-toggle", text: "Edit as text" });
    this.root.appendChild(el("div", { className: "lb-je-bar" }, [
      el("span", { className: "lb-muted", text: schema
        ? "Edit the fields; problems show beside them before you save."
        : "Edit the fields; the flow checks the payload when it runs." }),
      this.toggle
    ]));
    this.root.appendChild(this.summary);
    this.root.appendChild(this.fields);
    textarea.parentNode.insertBefore(this.root, textarea);
    this.textMode = false;
    var self = this;
    this.toggle.addEventListener("click", function () { self.switchMode(); });
    textarea.addEventListener("input", function () { if (self.textMode) self.check(); });
    var form = textarea.form;
    if (form) {
      form.addEventListener("submit", function (event) {
        if (!self.check()) {
          event.preventDefault();
          var first = self.root.querySelector(".lb-je-invalid") || self.summary;
          if (first.focus) first.focus();
          self.summary.scrollIntoView({ block: "center" });
        }
      });
    }
    this.load();
  }

  Editor.prototype.load = function () {
    var text = this.textarea.value.trim();
    try {
      this.value = text ? JSON.parse(text) : {};
    } catch (e) {
      this.value = null;
    }
    if (this.value === null || typeOf(this.value) !== "object") {
      this.textMode = true;
    }
    this.render();
  };

  Editor.prototype.render = function () {
    this.fields.innerHTML = "";
    this.textarea.hidden = !this.textMode;
    this.fields.hidden = this.textMode;
    this.toggle.textContent = this.textMode ? "Edit as fields" : "Edit as text";
    if (!this.textMode) this.fields.appendChild(this.objectControl(this.value, "", this.schema));
    this.check();
  };

  Editor.prototype.switchMode = function () {
    if (this.textMode) {
      try {
        var parsed = JSON.parse(this.textarea.value || "{}");
        if (typeOf(parsed) !== "object") throw new Error("not an object");
        this.value = parsed;
      } catch (e) {
        this.showSummary(["The text is not a JSON object yet: " + e.message]);
        return;
      }
    }
    this.textMode = !this.textMode;
    this.render();
  };

  Editor.prototype.sync = function () {
    this.textarea.value = JSON.stringify(this.value, null, 2);
    this.check();
  };

  Editor.prototype.objectControl = function (obj, path, schema) {
    var self = this;
    var box = el("div", { className: "lb-je-object" });
    var keys = Object.keys(obj);
    Object.keys((schema && schema.properties) || {}).forEach(function (k) {
      if (keys.indexOf(k) === -1) keys.push(k);
    });
    keys.forEach(function (key) {
      var childSchema = sub(schema, key);
      var childPath = join(path, key);
      var required = schema && (schema.required || []).indexOf(key) !== -1;
      var label = (childSchema && childSchema.title) ? childSchema.title : key;
      var value = obj[key];
      if (value !== undefined && value !== null && typeof value === "object") {
        var group = el("fieldset", { className: "lb-je-group", "data-path": childPath }, [
          el("legend", { text: label })
        ]);
        group.appendChild(Array.isArray(value)
          ? self.arrayControl(value, childPath, childSchema)
          : self.objectControl(value, childPath, childSchema));
        group.appendChild(el("div", { className: "lb-je-error", "data-error-for": childPath }));
        box.appendChild(group);
        return;
      }
      if (value === undefined && childSchema && [].concat(childSchema.type || []).some(
        function (t) { return t === "array" || t === "object"; })) {
        var add = el("button", { type: "button", className: "button lb-je-add", text: "Add " + label });
        add.addEventListener("click", function () {
          obj[key] = blankFor(childSchema);
          self.sync(); self.render();
        });
        box.appendChild(el("div", { className: "lb-je-row" }, [add,
          el("div", { className: "lb-je-error", "data-error-for": childPath })]));
        return;
      }
      box.appendChild(self.scalarControl(obj, key, childPath, label, required, childSchema));
    });
    return box;
  };

  Editor.prototype.arrayControl = function (list, path, schema) {
    var self = this;
    var box = el("ol", { className: "lb-je-list" });
    list.forEach(function (item, index) {
      var itemPath = join(path, index);
      var entry = el("li", { className: "lb-je-entry", "data-path": itemPath });
      if (item !== null && typeof item === "object" && !Array.isArray(item)) {
        entry.appendChild(self.objectControl(item, itemPath, sub(schema, 0)));
      } else {
        entry.appendChild(self.scalarControl(list, index, itemPath, "Entry " + (index + 1), true, sub(schema, 0)));
      }
      var remove = el("button", { type: "button", className: "button lb-je-remove", text: "Remove entry " + (index + 1) });
      remove.addEventListener("click", function () {
        list.splice(index, 1);
        self.sync(); self.render();
      });
      entry.appendChild(remove);
      box.appendChild(entry);
    });
    var add = el("button", { type: "button", className: "button lb-je-add", text: "Add an entry" });
    add.addEventListener("click", function () {
      var model = list.length && typeof list[list.length - 1] === "object" && list[list.length - 1] !== null
        ? Object.keys(list[list.length - 1]).reduce(function (o, k) { o[k] = ""; return o; }, {})
        : blankFor(sub(schema, 0));
      list.push(model);
      self.sync(); self.render();
    });
    var wrap = el("div", {}, [box, add]);
    return wrap;
  };

  Editor.prototype.scalarControl = function (holder, key, path, label, required, schema) {
    var self = this;
    var id = "lb-je-" + path.replace(/[^\w]/g, "-");
    var value = holder[key];
    var input;
    if (typeof value === "boolean") {
      input = el("input", { type: "checkbox", id: id });
      input.checked = value;
    } else {
      input = el("input", { type: "text", id: id, className: "vTextField" });
      input.value = value === undefined || value === null ? "" : String(value);
      if (value === undefined) input.placeholder = "(not set)";
    }
    input.setAttribute("data-path", path);
    var wasNumber = typeof value === "number";
    var kinds = schema && schema.type ? [].concat(schema.type) : [];
    input.addEventListener("input", function () {
      if (input.type === "checkbox") {
        holder[key] = input.checked;
      } else if (input.value === "" && !required && !Array.isArray(holder)) {
        delete holder[key];
      } else {
        var text = input.value;
        var numeric = text.trim() !== "" && !isNaN(Number(text));
        var preferNumber = wasNumber || (kinds.length && kinds[0] !== "string" &&
          (kinds.indexOf("number") !== -1 || kinds.indexOf("integer") !== -1));
        holder[key] = numeric && preferNumber ? Number(text) : text;
      }
      self.sync();
    });
    input.addEventListener("change", function () { self.sync(); });
    var error = el("div", { className: "lb-je-error", "data-error-for": path, id: id + "-error" });
    input.setAttribute("aria-describedby", id + "-error");
    return el("div", { className: "lb-je-row" }, [
      el("label", { "for": id, text: label + (required ? " *" : "") }), input, error
    ]);
  };

  Editor.prototype.showSummary = function (lines) {
    this.summary.innerHTML = "";
    if (!lines.length) return;
    this.summary.appendChild(el("p", { text: "Correct these before saving:" }));
    var ul = el("ul");
    lines.forEach(function (line) { ul.appendChild(el("li", { text: line })); });
    this.summary.appendChild(ul);
  };

  Editor.prototype.check = function () {
    var value = this.value;
    if (this.textMode) {
      var text = this.textarea.value.trim();
      if (!text) { this.showSummary([]); return true; }  // empty: back to the original
      try { value = JSON.parse(text); } catch (e) {
        this.showSummary(["The text is not valid JSON: " + e.message]);
        return false;
      }
      if (typeOf(value) !== "object") {
        this.showSummary(["The payload must be a JSON object, e.g. {\"qty\": 2}."]);
        return false;
      }
    }
    var errors = validate(this.schema, value);
    var root = this.root;
    root.querySelectorAll(".lb-je-error").forEach(function (node) { node.textContent = ""; });
    root.querySelectorAll(".lb-je-invalid").forEach(function (node) {
      node.classList.remove("lb-je-invalid");
      node.removeAttribute("aria-invalid");
    });
    var unplaced = [];
    errors.forEach(function (pair) {
      var path = pair[0], words = pair[1];
      var slot = null;
      root.querySelectorAll("[data-error-for]").forEach(function (node) {
        if (node.getAttribute("data-error-for") === path) slot = node;
      });
      if (slot && !this.textMode) {
        slot.textContent = (slot.textContent ? slot.textContent + " " : "") + words;
        var input = slot.parentNode.querySelector("input");
        if (input) { input.classList.add("lb-je-invalid"); input.setAttribute("aria-invalid", "true"); }
      }
      unplaced.push((path || "The payload") + ": " + words);
    }, this);
    this.showSummary(unplaced);
    return errors.length === 0;
  };

  function start() {
    document.querySelectorAll("textarea[data-json-editor]").forEach(function (textarea) {
      var schema = null;
      var holder = textarea.getAttribute("data-schema");
      if (holder && document.getElementById(holder)) {
        try { schema = JSON.parse(document.getElementById(holder).textContent); } catch (e) { schema = null; }
      }
      textarea.lbEditor = new Editor(textarea, schema);
    });
  }
  window.LedgerBridgeJSONEditor = { validate: validate };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
