/**
 * The "Draw a digit" page: the reader draws on a canvas, the drawing goes through the
 * same MNIST formatting as chapter 7 (mnist-format.js, a line-by-line port of
 * mnist_utils.handwriting), and the book's trained network classifies it with
 * ONNX Runtime Web, entirely in the browser.
 *
 * Every file comes from the book's own _static folder: nothing is fetched elsewhere.
 */
import * as ort from "./ort/ort.wasm.min.mjs";
import { ImageInputError, NoDigitError, formatSteps, rgbaToGrey } from "./mnist-format.js";

/** Width of the brush, in canvas pixels (the canvas is 280 × 280, ten times MNIST's 28). */
const BRUSH = 22;
/** Smallest type, in CSS pixels, that a long status message is set in to fit its box. */
const STATUS_MIN_PX = 11;
const BASE = new URL(".", import.meta.url);

// One thread: a static site is not "cross-origin isolated", so WebAssembly threads
// (SharedArrayBuffer) are unavailable anyway, and one image needs only a few milliseconds.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("ort/", BASE).href;

/** Turn 0..255 grey levels into the network's input tensor, as preprocess_for_model does. */
function inputTensor(digit, model) {
  const values = Float32Array.from(digit, (level) => level / 255);
  return new ort.Tensor("float32", values, model.input_shape);
}

class DrawDigit {
  constructor(root, manifest) {
    this.root = root;
    this.manifest = manifest;
    this.canvas = root.querySelector(".dd-canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.preview = root.querySelector(".dd-input").getContext("2d");
    this.status = root.querySelector(".dd-status");
    this.sessions = new Map();
    this.modelName = root.querySelector("input[name=dd-model]:checked")?.value ?? "cnn";
    // What the last update saw and produced; the page's tests read these.
    this.last = { digit: null, probabilities: null, prediction: null, inferenceMs: null, error: null };
    this.pending = null;
    this.dirty = false;
    this.buildBars();
    this.clear();
    this.listen();
    // The status box changes width when the phone turns or the page's layout changes.
    new ResizeObserver(() => this.fitStatus()).observe(this.status);
  }

  /** Ten labelled bars, one per digit. */
  buildBars() {
    const bars = this.root.querySelector(".dd-bars");
    this.bars = [];
    for (let digit = 0; digit < 10; digit++) {
      const row = document.createElement("div");
      row.className = "dd-bar-row";
      row.innerHTML = `<span class="dd-bar-label">${digit}</span><span class="dd-bar-track"><span class="dd-bar"></span></span><span class="dd-bar-value">–</span>`;
      bars.append(row);
      this.bars.push(row);
    }
  }

  listen() {
    let drawing = false;
    let previous = null;
    const point = (event) => {
      const box = this.canvas.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * this.canvas.width) / box.width,
        ((event.clientY - box.top) * this.canvas.height) / box.height,
      ];
    };
    // Pointer events cover the mouse, touch screens and pens alike.
    this.canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      this.canvas.setPointerCapture(event.pointerId);
      drawing = true;
      previous = point(event);
      this.stroke(previous, previous);
    });
    this.canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      event.preventDefault();
      const current = point(event);
      this.stroke(previous, current);
      previous = current;
    });
    const stop = () => {
      drawing = false;
      previous = null;
    };
    this.canvas.addEventListener("pointerup", stop);
    this.canvas.addEventListener("pointercancel", stop);
    this.root.querySelector(".dd-clear").addEventListener("click", () => this.clear());
    for (const radio of this.root.querySelectorAll("input[name=dd-model]")) {
      radio.addEventListener("change", () => this.setModel(radio.value));
    }
  }

  /** Light ink on a black canvas: MNIST's own polarity. */
  stroke([x0, y0], [x1, y1]) {
    const context = this.context;
    context.strokeStyle = "white";
    context.lineWidth = BRUSH;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(x0, y0);
    context.lineTo(x1, y1);
    context.stroke();
    this.schedule();
  }

  clear() {
    this.context.fillStyle = "black";
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.preview.clearRect(0, 0, 28, 28);
    this.last = { digit: null, probabilities: null, prediction: null, inferenceMs: null, error: null };
    this.showProbabilities(null);
    this.setStatus("Draw a digit in the black square.");
  }

  async setModel(name) {
    this.modelName = name;
    const radio = this.root.querySelector(`input[name=dd-model][value=${name}]`);
    if (radio) radio.checked = true;
    this.schedule();
    await this.idle();
  }

  /** The ONNX Runtime session of a model, created on first use. */
  session(name) {
    if (!this.sessions.has(name)) {
      const model = this.model(name);
      this.sessions.set(name, ort.InferenceSession.create(new URL(model.file, BASE).href));
    }
    return this.sessions.get(name);
  }

  model(name) {
    const model = this.manifest.models.find((candidate) => candidate.name === name);
    if (!model) throw new Error(`No model named ${name} in the manifest.`);
    return model;
  }

  /** Run ``update`` once per animation frame at most, and never two at once. */
  schedule() {
    this.dirty = true;
    if (this.pending) return;
    this.pending = new Promise((resolve) => requestAnimationFrame(resolve)).then(async () => {
      while (this.dirty) {
        this.dirty = false;
        await this.update();
      }
      this.pending = null;
    });
  }

  /** Resolves once every scheduled update has finished. */
  async idle() {
    while (this.pending) await this.pending;
  }

  async update() {
    const { width, height } = this.canvas;
    const rgba = this.context.getImageData(0, 0, width, height).data;
    let steps;
    try {
      steps = formatSteps(rgbaToGrey(rgba, width, height), width, height);
    } catch (error) {
      if (!(error instanceof ImageInputError)) throw error;
      this.last = { digit: null, probabilities: null, prediction: null, inferenceMs: null, error: error.message };
      this.showProbabilities(null);
      this.showInput(new Uint8Array(784));
      // A refusal says why; ink too faint to count (a few pixels) asks for a bigger digit.
      const inked = rgba.some((value, index) => index % 4 === 0 && value > 0);
      this.setStatus(
        error instanceof NoDigitError
          ? error.message
          : inked
            ? "Too little ink to read. Draw a bigger digit."
            : "Draw a digit in the black square.",
      );
      return;
    }
    this.showInput(steps.result);
    const probabilities = await this.classify(steps.result, this.modelName);
    this.last = { ...this.last, digit: steps.result, error: null };
    this.showProbabilities(probabilities);
  }

  /** Classify a 28 × 28 image of 0..255 grey levels; returns the ten probabilities. */
  async classify(digit, name = this.modelName) {
    const model = this.model(name);
    const session = await this.session(name);
    const started = performance.now();
    const outputs = await session.run({ [model.input_name]: inputTensor(digit, model) });
    const inferenceMs = performance.now() - started;
    const probabilities = Array.from(outputs[session.outputNames[0]].data);
    const prediction = probabilities.indexOf(Math.max(...probabilities));
    this.last = { ...this.last, probabilities, prediction, inferenceMs, model: name };
    return probabilities;
  }

  showInput(digit) {
    const image = this.preview.createImageData(28, 28);
    digit.forEach((level, index) => {
      image.data.set([level, level, level, 255], index * 4);
    });
    this.preview.putImageData(image, 0, 0);
  }

  showProbabilities(probabilities) {
    const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    this.bars.forEach((row, digit) => {
      const p = probabilities ? probabilities[digit] : 0;
      row.querySelector(".dd-bar").style.width = `${(100 * p).toFixed(1)}%`;
      row.querySelector(".dd-bar-value").textContent = probabilities ? `${(100 * p).toFixed(1)} %` : "–";
      row.classList.toggle("dd-best", digit === best);
    });
    const threshold = this.model(this.modelName).not_sure?.below ?? 0;
    const unsure = Boolean(probabilities) && probabilities[best] < threshold;
    this.root.classList.toggle("dd-unsure", unsure);
    if (probabilities) {
      const model = this.modelName.toUpperCase();
      const [guess, needed] = [percent(probabilities[best]), percent(threshold)];
      const timing = `in ${this.last.inferenceMs.toFixed(1)} ms`;
      // Below the threshold chosen on validation data (chapter 7), the pad says so instead.
      this.setStatus(
        unsure
          ? `The ${model} is not sure: its best guess, ${best}, has ${guess}, ` +
              `${guess === needed ? "just below" : "below"} the ${needed} it needs to answer (${timing}).`
          : `The ${model} reads it as ${best} (${guess}), ${timing}.`,
      );
    }
  }

  setStatus(text) {
    this.status.textContent = text;
    this.fitStatus();
  }

  /**
   * On a phone the status line sits above the pad, in a box of fixed height (draw-digit.css),
   * so that no message can move the pad under the finger. A message too long for the box is
   * set in smaller type until it fits, down to ``STATUS_MIN_PX``. Below the pad (a wider
   * screen) the box grows with its text, and nothing changes.
   */
  fitStatus() {
    const status = this.status;
    status.style.fontSize = "";
    let size = parseFloat(getComputedStyle(status).fontSize);
    while (status.scrollHeight > status.clientHeight + 1 && size > STATUS_MIN_PX) {
      size = Math.max(size - 0.5, STATUS_MIN_PX);
      status.style.fontSize = `${size}px`;
    }
  }

  /** The canvas's pixels, RGBA bytes row by row in base64, for tests that compare with Python. */
  canvasRGBA() {
    const { width, height } = this.canvas;
    const bytes = this.context.getImageData(0, 0, width, height).data;
    let binary = "";
    for (let start = 0; start < bytes.length; start += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
    }
    return { width, height, rgba: btoa(binary) };
  }

  /**
   * Time ``runs`` predictions of the current digit, in milliseconds: the median of the
   * single runs, and the mean over all of them (browsers round ``performance.now()`` to
   * 0.1 ms on pages that are not cross-origin isolated, so the mean is the finer figure).
   */
  async timeInference(runs = 50, name = this.modelName) {
    const digit = this.last.digit ?? new Uint8Array(784);
    await this.classify(digit, name); // warm-up
    const times = [];
    const started = performance.now();
    for (let run = 0; run < runs; run++) {
      await this.classify(digit, name);
      times.push(this.last.inferenceMs);
    }
    const mean = (performance.now() - started) / runs;
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(runs / 2)], mean };
  }
}

/** A probability as a percentage with one decimal, as the book prints them. */
function percent(p) {
  return `${(100 * p).toFixed(1)} %`;
}

/** Fill the page's ``data-manifest`` spans (file sizes, parity) from the build's manifest. */
function fillFacts(manifest) {
  const megabytes = (bytes) => (bytes / 1e6).toFixed(2);
  const runtimeBytes = manifest.runtime.reduce((sum, file) => sum + file.bytes, 0);
  const facts = { "runtime-mb": megabytes(runtimeBytes), "ort-version": manifest.onnxruntime_web };
  for (const model of manifest.models) {
    facts[`${model.name}-mb`] = megabytes(model.bytes);
    facts[`${model.name}-accuracy`] = (100 * model.test_accuracy).toFixed(2);
    facts[`${model.name}-not-sure`] = (100 * model.not_sure.below).toFixed(1);
    facts[`${model.name}-answered`] = (100 * model.not_sure.validation_coverage).toFixed(1);
    facts["not-sure-target"] = (100 * model.not_sure.target_accuracy).toFixed(1);
    facts[`${model.name}-max-diff`] = model.parity.max_abs_diff.toExponential(1);
    facts[`${model.name}-mismatches`] = String(model.parity.argmax_mismatches);
    facts[`${model.name}-images`] = model.parity.images.toLocaleString("en");
  }
  for (const element of document.querySelectorAll("[data-manifest]")) {
    const value = facts[element.dataset.manifest];
    if (value !== undefined) element.textContent = value;
  }
}

async function main() {
  const root = document.getElementById("draw-digit");
  if (!root) return;
  const response = await fetch(new URL("models/manifest.json", BASE));
  const manifest = await response.json();
  fillFacts(manifest);
  const demo = new DrawDigit(root, manifest);
  window.drawDigit = demo;
  await demo.session(demo.modelName);
  root.classList.add("dd-ready");
  demo.setStatus("Ready: draw a digit in the black square.");
  return demo;
}

window.drawDigitReady = main().catch((error) => {
  const status = document.querySelector("#draw-digit .dd-status");
  if (status) status.textContent = `The demo could not start: ${error.message}`;
  throw error;
});
