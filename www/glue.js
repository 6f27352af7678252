// Browser glue the Rust app imports (wasm-bindgen copies this file next to the wasm):
// frame timing and file downloads. Everything else lives in Rust.

/** The bytes at `url` (beside the page) as a Uint8Array; rejects with a message naming it. */
export async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Milliseconds since the page loaded (high resolution). */
export function now() {
  return performance.now();
}

/** A promise resolved at the next animation frame; after 100 ms at most (hidden tabs). */
export function nextFrame() {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    requestAnimationFrame(finish);
    setTimeout(finish, 100);
  });
}

function save(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Downloads `text` as the file `name`. */
export function downloadText(name, mime, text) {
  save(name, new Blob([text], { type: mime }));
}

/** Downloads `bytes` (a Uint8Array) as the file `name`. */
export function downloadBytes(name, mime, bytes) {
  save(name, new Blob([bytes], { type: mime }));
}

/**
 * Rasterizes an SVG document at `scale` times its size on a white background and downloads
 * it as a PNG. Rejects with a message if the browser cannot draw it.
 */
export function downloadSvgAsPng(name, svg, scale) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "white";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => {
        if (blob) { save(name, blob); resolve(); } else { reject(new Error("PNG encoding failed")); }
      }, "image/png");
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("the SVG could not be drawn")); };
    img.src = url;
  });
}

/** The WebGPU adapter's vendor, architecture and description, or "" without one. */
export async function adapterDescription() {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    const info = adapter?.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

// Calls f whenever the URL fragment changes (a room link was followed, or back/forward).
export function onHashChange(f) {
  window.addEventListener("hashchange", () => f());
}
