// The coder's page: fills a case, groups it with POST /v1/group?explain=true
// on every change, shows the DRG, its weight and the trail. No framework, no
// network beyond the drg serve it came from.
"use strict";

const state = {
  weights: false,
  dx: [], // [{code, name, cc}], the first is the principal diagnosis
  px: [],
  last: null, // the last result shown, to compare after a swap
  seq: 0,
};

const $ = (id) => document.getElementById(id);

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function packParam() {
  const pack = $("pack").value;
  return pack ? `pack=${encodeURIComponent(pack)}` : "";
}

async function loadPacks() {
  const { packs, weights } = await api("/v1/packs");
  state.weights = weights;
  const select = $("pack");
  for (const p of packs) {
    const option = document.createElement("option");
    option.value = p.id;
    option.textContent = `${p.name} (${p.id})`;
    if (p.default) option.selected = true;
    select.appendChild(option);
  }
}

// ---- code lists ----------------------------------------------------------

function renderList(kind) {
  const list = $(`${kind}-list`);
  list.textContent = "";
  state[kind].forEach((entry, i) => {
    const li = document.createElement("li");
    li.dataset.code = entry.code;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = entry.code;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = entry.name || "（本方案无此编码 not in this pack）";
    li.append(code, name);
    if (entry.cc) {
      const cc = document.createElement("span");
      cc.className = `cc ${entry.cc}`;
      cc.textContent = entry.cc;
      li.append(cc);
    }
    if (i > 0) {
      const swap = document.createElement("button");
      swap.type = "button";
      swap.className = "make-principal";
      swap.textContent = kind === "dx" ? "设为主要诊断 make principal" : "设为主要手术 make principal";
      swap.title = "与第一个交换 swap with the first";
      swap.onclick = () => makePrincipal(kind, i);
      li.append(swap);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "删除 remove";
    remove.onclick = () => {
      state[kind].splice(i, 1);
      renderList(kind);
      group();
    };
    li.append(remove);
    list.appendChild(li);
  });
}

function makePrincipal(kind, i) {
  const list = state[kind];
  [list[0], list[i]] = [list[i], list[0]];
  state.comparing = state.last;
  renderList(kind);
  group();
}

async function addCode(kind, code, name, cc) {
  code = code.trim();
  if (!code || state[kind].some((e) => e.code.toUpperCase() === code.toUpperCase())) return;
  if (name === undefined) {
    // Typed by hand: ask the pack for its name and CC level.
    try {
      const found = await api(`/v1/codes/${encodeURIComponent(code)}?${packParam()}`);
      code = found.code;
      name = kind === "dx" ? found.diagnosis_name : found.procedure_name;
      cc = found.cc_level;
    } catch (e) {
      name = null;
    }
  }
  state[kind].push({ code, name, cc });
  renderList(kind);
  group();
}

// ---- search as you type --------------------------------------------------

function picker(kind) {
  const input = $(`${kind}-search`);
  const suggest = $(`${kind}-suggest`);
  const vocabulary = kind === "dx" ? "diagnosis" : "procedure";
  let timer = null;
  let items = [];
  let active = -1;
  let asked = 0;

  const close = () => {
    suggest.hidden = true;
    items = [];
    active = -1;
  };
  const choose = (item) => {
    input.value = "";
    close();
    addCode(kind, item.code, item.name, item.cc_level);
  };
  const show = () => {
    suggest.textContent = "";
    items.forEach((item, i) => {
      const li = document.createElement("li");
      if (i === active) li.className = "active";
      const code = document.createElement("span");
      code.className = "code";
      code.textContent = item.code;
      li.append(code, document.createTextNode(item.name + (item.cc_level ? ` [${item.cc_level}]` : "")));
      li.onmousedown = (e) => {
        e.preventDefault();
        choose(item);
      };
      suggest.appendChild(li);
    });
    suggest.hidden = items.length === 0;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) return close();
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const found = await api(`/v1/codes?search=${encodeURIComponent(text)}&vocabulary=${vocabulary}&limit=15&${packParam()}`);
        if (mine !== asked) return; // a later keystroke already asked again
        items = found.codes;
        active = items.length ? 0 : -1;
        show();
      } catch (e) {
        close();
      }
    }, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && items.length) {
      active = (active + 1) % items.length;
      show();
      e.preventDefault();
    } else if (e.key === "ArrowUp" && items.length) {
      active = (active - 1 + items.length) % items.length;
      show();
      e.preventDefault();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (active >= 0 && items[active]) choose(items[active]);
      else if (input.value.trim()) {
        const code = input.value;
        input.value = "";
        close();
        addCode(kind, code);
      }
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}

// ---- grouping ------------------------------------------------------------

function caseJson() {
  const number = (id) => ($(id).value === "" ? null : $(id).value);
  return {
    id: $("case-id").value,
    sex: $("sex").value || null,
    age_years: number("age"),
    age_days: number("age-days"),
    weight_g: number("weight-g"),
    los_days: number("los"),
    diagnoses: state.dx.map((e) => e.code),
    procedures: state.px.map((e) => e.code),
  };
}

async function group() {
  const mine = ++state.seq;
  $("error").hidden = true;
  try {
    const result = await api(`/v1/group?explain=true&${packParam()}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(caseJson()),
    });
    let weight = null;
    if (state.weights && result.drg) {
      weight = await api(`/v1/drgs/${encodeURIComponent(result.drg)}?${packParam()}`).catch(() => null);
    }
    if (mine !== state.seq) return;
    show(result, weight);
  } catch (e) {
    if (mine !== state.seq) return;
    $("error").textContent = `错误 Error: ${e.message}`;
    $("error").hidden = false;
  }
}

const STATUS = {
  grouped: "已入组 grouped",
  ungroupable: "未入组 ungroupable",
  ambiguous: "歧义组 ambiguous (QY)",
  invalid: "无效病例 invalid",
};

function summary(result) {
  return result.drg ? `${result.drg} ${result.drg_name || ""}` : `${STATUS[result.status] || result.status}${result.adrg ? " · " + result.adrg : ""}`;
}

function show(result, weight) {
  const box = $("result");
  box.className = `result ${result.status}`;
  $("result-status").textContent = STATUS[result.status] || result.status;
  $("result-drg").textContent = result.drg || "";
  $("result-name").textContent = result.drg_name || "";
  $("result-place").textContent = [result.mdc, result.adrg].filter(Boolean).join(" / ") || "—";
  $("result-weight").textContent = !state.weights
    ? "未加载权重表 no weights table (drg serve --weights)"
    : weight && weight.weight != null
      ? `${weight.weight.toFixed(4)} · 基准点数 base points ${weight.base_points.toFixed(2)}${weight.unstable ? " · 样本少 few cases" : ""}`
      : "—";
  $("result-reason").textContent = result.reason || "—";
  $("result-warnings").textContent = result.warnings.length ? result.warnings.join("；") : "—";

  const previous = $("previous");
  if (state.comparing) {
    const before = summary(state.comparing);
    const after = summary(result);
    previous.textContent = before === after
      ? `交换后结果不变 Same result after the swap: ${after}`
      : `交换前 Before the swap: ${before}  →  交换后 after: ${after}`;
    previous.hidden = false;
    state.comparing = null;
  } else {
    previous.hidden = true;
  }
  state.last = result;

  const trail = $("trail");
  trail.textContent = "";
  for (const step of result.trace || []) {
    const li = document.createElement("li");
    li.className = step.held ? "held" : "not-held";
    li.textContent = `${"  ".repeat(step.depth)}${step.held ? "✓" : "✗"} ${step.text}`;
    trail.appendChild(li);
  }
}

// ---- start ---------------------------------------------------------------

async function start() {
  try {
    await loadPacks();
  } catch (e) {
    $("error").textContent = `无法读取分组方案 Cannot list the packs: ${e.message}`;
    $("error").hidden = false;
    return;
  }
  picker("dx");
  picker("px");
  for (const id of ["case-id", "sex", "age", "age-days", "weight-g", "los"]) {
    $(id).addEventListener("change", group);
  }
  $("pack").addEventListener("change", group);
  $("held-only").addEventListener("change", () => $("trail").classList.toggle("held-only", $("held-only").checked));
  renderList("dx");
  renderList("px");
  document.body.dataset.ready = "true";
}

start();
