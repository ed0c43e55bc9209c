/**
 * Format a digit drawn on a canvas like MNIST: 28×28 grey levels, light ink on black.
 *
 * A line-by-line port of `mnist_utils.handwriting.format_steps` (Python), so that a web
 * page prepares a drawing exactly as the book's Python code does: read the pixels as
 * grey levels, flip dark ink to light, stretch the contrast and drop faint noise, keep
 * the digit's strokes but not specks of dust, crop the digit, scale it so that its
 * longer side is 20 pixels, and place it in a 28×28 field with its centre of mass at
 * the centre.
 *
 * Each step repeats the arithmetic of the NumPy 2.4, SciPy 1.17 or Pillow 13 function
 * that the Python code calls, in the same order, so that both give the same 28×28
 * array, bit for bit. (Python computes the grey level as an explicit sum, not as a
 * BLAS matrix product, for exactly that reason: BLAS may fuse the multiply-adds, and
 * a last-bit difference decides whether a pixel that lands on a threshold is ink.)
 *
 * The module uses no DOM and no dependencies: it runs in browsers and in Node.
 *
 * @module mnist-format
 */

/** Side of the box the digit's bounding box is scaled to fit, as in MNIST (`DIGIT_BOX`). */
export const DIGIT_BOX = 20;
/** Side of the output field (`FIELD`). */
export const FIELD = 28;
/** Ink strength above which a pixel counts as ink (`INK_THRESHOLD`). */
export const INK_THRESHOLD = 0.5;
/** Ink below this strength is treated as paper texture or noise and removed (`NOISE_FLOOR`). */
export const NOISE_FLOOR = 0.25;

/** Image edges from which the ink may be noise or a dark area (`NOISE_EDGES`). */
export const NOISE_EDGES = 3;
/** Least solidity of ink that touches `NOISE_EDGES` edges (`MIN_SOLIDITY`). */
export const MIN_SOLIDITY = 0.6;
/** Share of its box from which ink touching `NOISE_EDGES` edges is a dark area (`DARK_AREA_FILL`). */
export const DARK_AREA_FILL = 0.97;
/** Share of the digit's pixels that makes a group of columns a digit of its own (`GROUP_SHARE`). */
export const GROUP_SHARE = 0.2;
/** Width/height ratio from which groups side by side are several digits (`PAIR_ASPECT`). */
export const PAIR_ASPECT = 1.5;
/** Share of the height each of two pieces side by side must span (`PAIR_HEIGHT`). */
export const PAIR_HEIGHT = 0.8;
/** Largest overlap of two pieces side by side, as a share of the narrower's width (`PAIR_OVERLAP`). */
export const PAIR_OVERLAP = 0.25;
/** Share of the formatted digit's box that texture fills (`TEXTURE_FILL`). */
export const TEXTURE_FILL = 0.85;
/** Share of texture's inked pixels that are mid-grey (`TEXTURE_MID_GREY`). */
export const TEXTURE_MID_GREY = 0.55;
/** Smallest side of the formatted box the texture test applies to (`TEXTURE_MIN_SIDE`). */
export const TEXTURE_MIN_SIDE = 10;
/** Texture is less solid than this (`TEXTURE_MAX_SOLIDITY`). */
export const TEXTURE_MAX_SOLIDITY = 0.85;
/** Deepest ink of a digit, in 3×3 peels of the formatted image (`MAX_INK_DEPTH`). */
export const MAX_INK_DEPTH = 5;

/** The input cannot be turned into a digit: empty or blank (Python's `ImageInputError`). */
export class ImageInputError extends Error {
  constructor(message) {
    super(message);
    this.name = "ImageInputError";
  }
}

/** The image shows no single digit that stands out (Python's `NoDigitError`). */
export class NoDigitError extends ImageInputError {
  constructor(message) {
    super(message);
    this.name = "NoDigitError";
  }
}

// ---------------------------------------------------------------------------------------
// Numerical helpers that reproduce Python's and NumPy's arithmetic exactly.
// ---------------------------------------------------------------------------------------

/**
 * Round to the nearest integer, halves to the even neighbour: Python's `round(x)` and
 * NumPy's `np.round` (JavaScript's `Math.round` rounds halves up instead).
 * @param {number} x
 * @returns {number}
 */
export function roundHalfEven(x) {
  const floor = Math.floor(x);
  const fraction = x - floor; // exact for doubles
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Sum like NumPy's `np.sum` of float64: pairwise summation, eight accumulators per
 * block of up to 128 values (`DOUBLE_pairwise_sum` in NumPy's C source).
 * @param {ArrayLike<number>} values
 * @param {number} [start=0]
 * @param {number} [count=values.length - start]
 * @returns {number}
 */
export function pairwiseSum(values, start = 0, count = values.length - start) {
  if (count < 8) {
    let sum = -0.0;
    for (let i = 0; i < count; i++) sum += values[start + i];
    return sum;
  }
  if (count <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => values[start + j]);
    let i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += values[start + i + j];
    }
    let sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < count; i++) sum += values[start + i];
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, count - half);
}

/**
 * `np.median` of float64 values: the middle value, or the mean of the two middle ones.
 * @param {ArrayLike<number>} values
 * @returns {number}
 */
export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle];
  return (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * NumPy's `_lerp`: linear interpolation, computed from the nearer end for accuracy.
 * @param {number} a
 * @param {number} b
 * @param {number} t
 * @returns {number}
 */
function lerp(a, b, t) {
  const difference = b - a;
  return t >= 0.5 ? b - difference * (1 - t) : a + difference * t;
}

/**
 * `np.percentile(values, q)` with NumPy's default method, "linear".
 * @param {ArrayLike<number>} values
 * @param {number} q - percentile, 0..100
 * @returns {number}
 */
export function percentile(values, q) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const virtualIndex = (n - 1) * (q / 100);
  if (virtualIndex >= n - 1) return sorted[n - 1];
  const previous = Math.floor(virtualIndex);
  return lerp(sorted[previous], sorted[previous + 1], virtualIndex - previous);
}

// ---------------------------------------------------------------------------------------
// Reading the canvas.
// ---------------------------------------------------------------------------------------

function checkSize(width, height) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new TypeError(`width and height must be non-negative integers, got ${width}×${height}.`);
  }
  if (width === 0 || height === 0) {
    throw new ImageInputError(`The image is empty (${width}×${height} pixels).`);
  }
}

function checkLength(array, expected, what) {
  if (array.length !== expected) {
    throw new TypeError(`${what} must hold ${expected} values, got ${array.length}.`);
  }
}

/**
 * Lay transparent pixels over paper that contrasts with the ink, in place: white paper
 * under dark ink, black paper under light ink (the alpha branch of `load_grey`).
 * @param {Float64Array} grey
 * @param {Float64Array} alpha - opacity in [0, 1]
 */
function layOverPaper(grey, alpha) {
  const opaqueGrey = grey.filter((_, i) => alpha[i] > 0.5);
  const inkIsDark = opaqueGrey.length > 0 ? pairwiseSum(opaqueGrey) / opaqueGrey.length < 0.5 : true;
  const paper = inkIsDark ? 1.0 : 0.0;
  for (let i = 0; i < grey.length; i++) {
    grey[i] = alpha[i] * grey[i] + (1.0 - alpha[i]) * paper;
  }
}

/**
 * Grey levels in [0, 1] of RGBA pixels, such as a canvas's `ImageData.data`: what
 * `load_grey` returns for a `uint8` array of shape (height, width, 4).
 * @param {Uint8ClampedArray|Uint8Array} rgba - width × height × 4 bytes, row by row
 * @param {number} width
 * @param {number} height
 * @returns {Float64Array} width × height grey levels, row by row
 */
export function rgbaToGrey(rgba, width, height) {
  checkSize(width, height);
  checkLength(rgba, width * height * 4, "rgba");
  const grey = new Float64Array(width * height);
  const alpha = new Float64Array(width * height);
  let transparent = false;
  for (let i = 0; i < grey.length; i++) {
    const [r, g, b] = [rgba[4 * i] / 255.0, rgba[4 * i + 1] / 255.0, rgba[4 * i + 2] / 255.0];
    grey[i] = r * 0.299 + g * 0.587 + b * 0.114; // as in load_grey, term by term
    alpha[i] = rgba[4 * i + 3] / 255.0;
    transparent ||= alpha[i] < 1.0;
  }
  if (transparent) layOverPaper(grey, alpha);
  return grey;
}

// ---------------------------------------------------------------------------------------
// Ink: polarity, contrast and noise.
// ---------------------------------------------------------------------------------------

/**
 * The paper's grey level: the median of the image's border (`_paper`).
 * @param {Float64Array} grey
 * @param {number} width
 * @param {number} height
 * @returns {number}
 */
function paperLevel(grey, width, height) {
  const border = [];
  for (let x = 0; x < width; x++) border.push(grey[x]); // top row
  for (let x = 0; x < width; x++) border.push(grey[(height - 1) * width + x]); // bottom row
  for (let y = 0; y < height; y++) border.push(grey[y * width]); // left column
  for (let y = 0; y < height; y++) border.push(grey[y * width + width - 1]); // right column
  return median(border);
}

/**
 * Ink strength in [0, 1]: 0 on the paper, 1 at the darkest (or lightest) stroke (`_ink`).
 * @param {Float64Array} grey
 * @param {number} width
 * @param {number} height
 * @param {boolean} invert - whether the ink is darker than the paper
 * @returns {Float64Array}
 */
function inkStrength(grey, width, height, invert) {
  const paper = paperLevel(grey, width, height);
  const ink = invert ? grey.map((value) => 1.0 - value) : Float64Array.from(grey);
  const paperInk = invert ? 1.0 - paper : paper;
  const strongest = percentile(ink, 99.5);
  if (strongest - paperInk < 0.1) {
    throw new ImageInputError(
      "The image is blank: no stroke stands out from the background. Check that it " +
        "shows a digit, or pass invert=True/False if the ink is lighter than the paper.",
    );
  }
  const range = strongest - paperInk;
  return ink.map((value) => {
    const stretched = Math.min(Math.max((value - paperInk) / range, 0.0), 1.0);
    return stretched < NOISE_FLOOR ? 0.0 : stretched;
  });
}

/**
 * Label the 8-connected pieces of the pixels where `inside` is true, like
 * `scipy.ndimage.label(inside, structure=np.ones((3, 3)))`.
 * @param {(i: number) => boolean} inside
 * @param {number} width
 * @param {number} height
 * @returns {{labels: Int32Array, count: number}} labels 1..count, 0 outside
 */
function labelPieces(inside, width, height) {
  const labels = new Int32Array(width * height);
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== 0 || !inside(start)) continue;
    labels[start] = ++count;
    const stack = [start];
    while (stack.length > 0) {
      const i = stack.pop();
      const [x, y] = [i % width, Math.floor(i / width)];
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [nx, ny] = [x + dx, y + dy];
          if (nx < 0 || nx >= width || ny < 0 || ny >= height) continue;
          const j = ny * width + nx;
          if (labels[j] === 0 && inside(j)) {
            labels[j] = count;
            stack.push(j);
          }
        }
      }
    }
  }
  return { labels, count };
}

/**
 * Pixels that belong to the digit: connected pieces of ink, minus specks (`_digit_mask`).
 *
 * A piece is kept if it holds at least 5 % of the ink of the largest piece, so that
 * noise and dust are dropped but the separate strokes of a 5 or a 4 are not.
 * @param {Float64Array} ink
 * @param {number} width
 * @param {number} height
 * @returns {Uint8Array} 1 for the digit's pixels, 0 elsewhere
 */
function digitMask(ink, width, height) {
  const { labels, count } = labelPieces((i) => ink[i] > 0, width, height);
  if (count === 0 || !ink.some((value) => value > INK_THRESHOLD)) {
    throw new ImageInputError("The image is blank: no pixel is dark enough to be ink.");
  }
  // Each piece's ink, summed in reading order as `ndimage.sum_labels` (np.bincount) does.
  const amounts = new Float64Array(count + 1);
  labels.forEach((label, i) => {
    if (label > 0) amounts[label] += ink[i];
  });
  const largest = amounts.reduce((most, amount) => Math.max(most, amount), 0.0);
  const keep = amounts.map((amount, label) => (label > 0 && amount >= 0.05 * largest ? 1 : 0));
  return Uint8Array.from(labels, (label) => keep[label]);
}

/**
 * The mask's bounding box, inclusive: `[top, bottom, left, right]`.
 * @param {Uint8Array} mask
 * @param {number} width
 * @param {number} height
 * @returns {number[]}
 */
function boundingBox(mask, width, height) {
  let [top, bottom, left, right] = [height, -1, width, -1];
  mask.forEach((inDigit, i) => {
    if (!inDigit) return;
    const [x, y] = [i % width, Math.floor(i / width)];
    [top, bottom] = [Math.min(top, y), Math.max(bottom, y)];
    [left, right] = [Math.min(left, x), Math.max(right, x)];
  });
  return [top, bottom, left, right];
}

// ---------------------------------------------------------------------------------------
// Scaling: Pillow's `Image.resize` of a mode "F" (float32) image.
// ---------------------------------------------------------------------------------------

/** Pillow's box filter (`Image.Resampling.BOX`), used to shrink. */
const BOX = { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) };
/** Pillow's triangle filter (`Image.Resampling.BILINEAR`), used to enlarge. */
const BILINEAR = { support: 1.0, weight: (x) => (Math.abs(x) < 1.0 ? 1.0 - Math.abs(x) : 0.0) };

/**
 * For each output pixel along one axis, the first input pixel it reads and the weights
 * of the input pixels from there on (`precompute_coeffs` in Pillow's Resample.c).
 * @param {number} inSize
 * @param {number} outSize
 * @param {{support: number, weight: (x: number) => number}} filter
 * @returns {{first: number, weights: Float64Array}[]}
 */
function resampleCoefficients(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = filter.support * filterScale;
  const inverseFilterScale = 1.0 / filterScale;
  return Array.from({ length: outSize }, (_, out) => {
    const centre = (out + 0.5) * scale;
    const first = Math.max(Math.trunc(centre - support + 0.5), 0); // C's (int) truncates
    const last = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const weights = Float64Array.from({ length: last - first }, (_, x) =>
      filter.weight((x + first - centre + 0.5) * inverseFilterScale),
    );
    const total = weights.reduce((sum, weight) => sum + weight, 0.0);
    if (total !== 0.0) weights.forEach((weight, x) => (weights[x] = weight / total));
    return { first, weights };
  });
}

/**
 * Pillow's horizontal pass (`ImagingResampleHorizontal_32bpc`) over `rows` rows of the
 * input from row `firstRow`: sums in double precision, stores float32.
 */
function resampleRows(pixels, width, coefficients, firstRow, rows) {
  const outWidth = coefficients.length;
  const out = new Float32Array(outWidth * rows);
  for (let y = 0; y < rows; y++) {
    const row = (y + firstRow) * width;
    coefficients.forEach(({ first, weights }, x) => {
      let sum = 0.0;
      weights.forEach((weight, k) => (sum += pixels[row + first + k] * weight));
      out[y * outWidth + x] = sum;
    });
  }
  return out;
}

/**
 * Pillow's vertical pass (`ImagingResampleVertical_32bpc`); `firstRow` is the row of
 * the original image that is the input's row 0.
 */
function resampleColumns(pixels, width, coefficients, firstRow) {
  const out = new Float32Array(width * coefficients.length);
  coefficients.forEach(({ first, weights }, y) => {
    for (let x = 0; x < width; x++) {
      let sum = 0.0;
      weights.forEach((weight, k) => (sum += pixels[(first - firstRow + k) * width + x] * weight));
      out[y * width + x] = sum;
    }
  });
  return out;
}

/**
 * `Image.fromarray(pixels, mode="F").resize((outWidth, outHeight), filter)` with
 * Pillow 13 (`ImagingResampleInner`): one pass along each axis whose size changes,
 * rows first unless the height shrinks by more than twice as many pixels as the width.
 * The order matters: float32 rounding between the passes makes the results differ.
 * @param {Float32Array} pixels
 * @param {number} width
 * @param {number} height
 * @param {number} outWidth
 * @param {number} outHeight
 * @param {{support: number, weight: (x: number) => number}} filter
 * @returns {Float32Array}
 */
export function resizeFloat32(pixels, width, height, outWidth, outHeight, filter) {
  if (outWidth === width && outHeight === height) return Float32Array.from(pixels); // a copy
  const horizontal = resampleCoefficients(width, outWidth, filter);
  const vertical = resampleCoefficients(height, outHeight, filter);
  const shrink = height - outHeight;
  if (shrink > 0 && shrink > (width - outWidth) * 2) {
    const columns = resampleColumns(pixels, width, vertical, 0);
    return outWidth === width ? columns : resampleRows(columns, width, horizontal, 0, outHeight);
  }
  if (outWidth === width) return resampleColumns(pixels, width, vertical, 0);
  // Only the rows that the vertical pass reads are resampled.
  const firstRow = vertical[0].first;
  const lastRow = vertical[outHeight - 1].first + vertical[outHeight - 1].weights.length;
  const rows = resampleRows(pixels, width, horizontal, firstRow, lastRow - firstRow);
  return outHeight === height ? rows : resampleColumns(rows, outWidth, vertical, firstRow);
}

/**
 * Scale the cropped digit so that its longer side is 20 pixels, keeping its aspect
 * ratio: box filter to shrink (anti-aliasing), bilinear to enlarge; clip to [0, 1].
 * @param {Float32Array} crop
 * @param {number} width
 * @param {number} height
 * @returns {{data: Float64Array, width: number, height: number}}
 */
function scaleDigit(crop, width, height) {
  const scale = DIGIT_BOX / Math.max(height, width);
  const outWidth = Math.max(1, roundHalfEven(width * scale));
  const outHeight = Math.max(1, roundHalfEven(height * scale));
  const filter = scale < 1 ? BOX : BILINEAR;
  const resized = resizeFloat32(crop, width, height, outWidth, outHeight, filter);
  const data = Float64Array.from(resized, (value) => Math.min(Math.max(value, 0.0), 1.0));
  return { data, width: outWidth, height: outHeight };
}

// ---------------------------------------------------------------------------------------
// Centring in the 28×28 field.
// ---------------------------------------------------------------------------------------

/**
 * `scipy.ndimage.center_of_mass` of a 28×28 field: `[row, column]`.
 * @param {Float64Array} field
 * @returns {number[]}
 */
function centreOfMass(field) {
  const total = pairwiseSum(field);
  const byRow = field.map((value, i) => value * Math.floor(i / FIELD));
  const byColumn = field.map((value, i) => value * (i % FIELD));
  return [pairwiseSum(byRow) / total, pairwiseSum(byColumn) / total];
}

/**
 * Move the field's content by whole pixels, filling with 0, like
 * `scipy.ndimage.shift(field, (rows, columns), order=0, mode="constant", cval=0.0)`.
 * @param {Float64Array} field
 * @param {number} rows
 * @param {number} columns
 * @returns {Float64Array}
 */
function shiftField(field, rows, columns) {
  return field.map((_, i) => {
    const [y, x] = [Math.floor(i / FIELD) - rows, (i % FIELD) - columns];
    return y >= 0 && y < FIELD && x >= 0 && x < FIELD ? field[y * FIELD + x] : 0.0;
  });
}

/**
 * Paste the scaled digit in the middle of a 28×28 black field, then move it so that
 * its centre of mass is at the centre; grey levels 0..255.
 * @param {{data: Float64Array, width: number, height: number}} scaled
 * @returns {Uint8Array} 784 values, row by row
 */
function centreInField(scaled) {
  const field = new Float64Array(FIELD * FIELD);
  const top = Math.floor((FIELD - scaled.height) / 2);
  const left = Math.floor((FIELD - scaled.width) / 2);
  scaled.data.forEach((value, i) => {
    const [y, x] = [Math.floor(i / scaled.width), i % scaled.width];
    field[(top + y) * FIELD + left + x] = value;
  });
  const [centreRow, centreColumn] = centreOfMass(field);
  const shifted = shiftField(field, roundHalfEven(FIELD / 2 - centreRow), roundHalfEven(FIELD / 2 - centreColumn));
  return Uint8Array.from(shifted, (value) => roundHalfEven(value * 255));
}

// ---------------------------------------------------------------------------------------
// The whole pipeline.
// ---------------------------------------------------------------------------------------

/**
 * Run {@link toMnistFormat} and return every intermediate image (`format_steps`).
 *
 * @param {Float64Array} grey - grey levels in [0, 1], row by row (see {@link rgbaToGrey})
 * @param {number} width
 * @param {number} height
 * @param {{invert?: boolean|null}} [options] - `invert`: null or absent to detect the
 *   polarity from the border; true if the ink is darker than the paper; false if lighter
 * @returns {{grey: Float64Array, ink: Float64Array, inverted: boolean,
 *   box: number[], scaled: {data: Float64Array, width: number, height: number},
 *   result: Uint8Array}} `box` is `[top, bottom, left, right]` in `ink`, inclusive;
 *   `result` is the 28×28 image, row by row
 * @throws {ImageInputError} if the image is empty or blank
 * @throws {NoDigitError} if no single digit stands out
 */
export function formatSteps(grey, width, height, { invert = null } = {}) {
  if (invert !== null && invert !== undefined && typeof invert !== "boolean") {
    throw new TypeError(`invert must be true, false or null, got ${invert}.`);
  }
  checkSize(width, height);
  checkLength(grey, width * height, "grey");
  const inverted = invert ?? paperLevel(grey, width, height) > 0.5; // light paper: dark ink
  const ink = inkStrength(grey, width, height, inverted);
  const mask = digitMask(ink, width, height);
  const box = boundingBox(mask, width, height);
  const [top, bottom, left, right] = box;
  const [cropWidth, cropHeight] = [right - left + 1, bottom - top + 1];
  const crop = Float32Array.from({ length: cropWidth * cropHeight }, (_, i) => {
    const j = (top + Math.floor(i / cropWidth)) * width + left + (i % cropWidth);
    return mask[j] ? ink[j] : 0.0;
  });
  const scaled = scaleDigit(crop, cropWidth, cropHeight);
  const result = centreInField(scaled);
  const reason = noDigitReason(mask, width, height, box, result);
  if (reason !== null) throw new NoDigitError(reason);
  return { grey, ink, inverted, box, scaled, result };
}

/**
 * Why the ink is not one digit, or null if it may be one (`no_digit_reason`): it reaches
 * three or four edges and is scattered (noise) or a solid block (a dark area), falls into
 * pieces side by side (several digits),
 * is a block of mid-grey once formatted (texture), or is too little ink (a dot, a short
 * dash). Whole-number tests, as in Python.
 * @param {Uint8Array} mask
 * @param {number} width
 * @param {number} height
 * @param {number[]} box - `[top, bottom, left, right]`, inclusive
 * @param {Uint8Array} result - the 28×28 digit
 * @returns {string|null}
 */
export function noDigitReason(mask, width, height, box, result) {
  const [top, bottom, left, right] = box;
  const edges = (top === 0) + (bottom === height - 1) + (left === 0) + (right === width - 1);
  const [boxWidth, boxHeight] = [right - left + 1, bottom - top + 1];
  // Solidity (`_solid_pairs`): inked pixels' right and lower neighbours in the box, and how many are inked.
  let [solid, neighbours, inkedInBox] = [0, 0, 0];
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      if (!mask[y * width + x]) continue;
      inkedInBox += 1;
      if (x < right) {
        neighbours += 1;
        solid += mask[y * width + x + 1] ? 1 : 0;
      }
      if (y < bottom) {
        neighbours += 1;
        solid += mask[(y + 1) * width + x] ? 1 : 0;
      }
    }
  }
  if (edges >= NOISE_EDGES && solid < MIN_SOLIDITY * neighbours) {
    return (
      `No single digit stands out: the ink reaches ${edges} of the image's 4 edges and is scattered, ` +
      `as noise is (of the ${thousands(neighbours)} right and lower neighbours of its inked pixels, only ` +
      `${thousands(solid)} are ink; a digit's strokes are solid). Check that the image shows one digit.`
    );
  }
  if (edges >= NOISE_EDGES && inkedInBox >= DARK_AREA_FILL * (boxWidth * boxHeight)) {
    return (
      `No single digit stands out: a solid dark area reaches ${edges} of the image's 4 edges, as a ` +
      "shadow or the edge of the page does. Photograph or crop the digit on plain paper."
    );
  }
  let total = 0;
  const groups = [];
  let count = 0;
  for (let x = left; x <= right + 1; x++) {
    let pixels = 0;
    if (x <= right) for (let y = top; y <= bottom; y++) pixels += mask[y * width + x];
    total += pixels;
    if (pixels) {
      count += pixels;
    } else if (count) {
      groups.push(count);
      count = 0;
    }
  }
  let large = groups.filter((pixels) => pixels >= GROUP_SHARE * total).length;
  let sideBySide = large >= 2 && boxWidth >= PAIR_ASPECT * boxHeight;
  if (!sideBySide) {
    // Connected pieces: [left, right, height] of each holding at least GROUP_SHARE of the pixels.
    const { labels, count: pieceCount } = labelPieces((i) => mask[i] > 0, width, height);
    const stats = Array.from({ length: pieceCount + 1 }, () => ({ n: 0, x0: width, x1: -1, y0: height, y1: -1 }));
    labels.forEach((label, i) => {
      if (label === 0) return;
      const [x, y] = [i % width, Math.floor(i / width)];
      const piece = stats[label];
      piece.n += 1;
      [piece.x0, piece.x1] = [Math.min(piece.x0, x), Math.max(piece.x1, x)];
      [piece.y0, piece.y1] = [Math.min(piece.y0, y), Math.max(piece.y1, y)];
    });
    const pieces = stats
      .slice(1)
      .filter((piece) => piece.n >= GROUP_SHARE * total)
      .map((piece) => [piece.x0 - left, piece.x1 - left, piece.y1 - piece.y0 + 1])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    for (let k = 0; k + 1 < pieces.length; k++) {
      const [[left1, right1, height1], [left2, right2, height2]] = [pieces[k], pieces[k + 1]];
      const overlap = Math.max(0, right1 - left2 + 1);
      const narrower = Math.min(right1 - left1 + 1, right2 - left2 + 1);
      const tall = height1 >= PAIR_HEIGHT * boxHeight && height2 >= PAIR_HEIGHT * boxHeight;
      if (tall && overlap <= PAIR_OVERLAP * narrower) {
        [sideBySide, large] = [true, pieces.length];
        break;
      }
    }
  }
  if (sideBySide) {
    return (
      `No single digit stands out: the ink falls into ${large} pieces side by side, as several ` +
      "digits do. Crop the image to one digit."
    );
  }
  let [y0, y1, x0, x1] = [FIELD, -1, FIELD, -1];
  result.forEach((value, i) => {
    if (!value) return;
    const [x, y] = [i % FIELD, Math.floor(i / FIELD)];
    [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y), Math.min(x0, x), Math.max(x1, x)];
  });
  if (y1 < 0) return null;
  const area = (y1 - y0 + 1) * (x1 - x0 + 1);
  let [inked, mid] = [0, 0];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const value = result[y * FIELD + x];
      inked += value > 0;
      mid += value >= 64 && value < 192;
    }
  }
  const wide = Math.min(y1 - y0 + 1, x1 - x0 + 1) >= TEXTURE_MIN_SIDE; // a thin 1 may fill its box with grey
  const grey = inked >= TEXTURE_FILL * area && mid >= TEXTURE_MID_GREY * inked;
  if (wide && grey && solid < TEXTURE_MAX_SOLIDITY * neighbours) {
    return (
      `No single digit stands out: the formatted digit is a block of grey texture (${inked} of its ` +
      `${area} pixels inked, ${mid} of them mid-grey), as noise gives, not strokes. Check ` +
      "that the image shows one digit in clear strokes."
    );
  }
  if (inkDepth(result) > MAX_INK_DEPTH) {
    return (
      "Too little ink to read: this looks like a dot or a short dash, whose strokes are " +
      "about as thick as it is long, not like a digit. Draw a bigger digit."
    );
  }
  return null;
}

/** A whole number with commas between thousands, as Python's `f"{n:,}"` writes it. */
function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * How many times a formatted digit's ink (its pixels of at least 128) can be peeled, one
 * pixel from every side (a 3×3 erosion, paper outside the field), before none is left
 * (`ink_depth`).
 * @param {Uint8Array} result - the 28×28 digit
 * @returns {number}
 */
export function inkDepth(result) {
  let ink = Uint8Array.from(result, (value) => (value >= 128 ? 1 : 0));
  let depth = 0;
  while (ink.some((value) => value)) {
    const peeled = new Uint8Array(FIELD * FIELD);
    for (let y = 0; y < FIELD; y++) {
      for (let x = 0; x < FIELD; x++) {
        let kept = 1;
        for (let dy = -1; dy <= 1 && kept; dy++) {
          for (let dx = -1; dx <= 1 && kept; dx++) {
            const [row, column] = [y + dy, x + dx];
            const inside = row >= 0 && row < FIELD && column >= 0 && column < FIELD;
            kept = inside && ink[row * FIELD + column] ? 1 : 0;
          }
        }
        peeled[y * FIELD + x] = kept;
      }
    }
    ink = peeled;
    depth += 1;
  }
  return depth;
}

/**
 * Format a picture of one digit like MNIST: 28×28 grey levels 0..255, light ink on
 * black (`to_mnist_format`).
 *
 * @example
 * const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
 * const digit = toMnistFormat(rgbaToGrey(data, width, height), width, height);
 *
 * @param {Float64Array} grey - grey levels in [0, 1], row by row (see {@link rgbaToGrey})
 * @param {number} width
 * @param {number} height
 * @param {{invert?: boolean|null}} [options] - see {@link formatSteps}
 * @returns {Uint8Array} 784 values, row by row
 * @throws {ImageInputError} if the image is empty or blank
 */
export function toMnistFormat(grey, width, height, options = {}) {
  return formatSteps(grey, width, height, options).result;
}
