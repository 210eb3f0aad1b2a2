// Reading a code with the camera where the browser has BarcodeDetector; typing always works without it.
export const canScan = () => "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** Start the camera into ``video``; calls ``found(text)`` once and stops. Returns a stop function. */
export async function scan(video, formats, found) {
  const detector = new window.BarcodeDetector({formats});
  const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
  let live = true;
  const stop = () => { live = false; stream.getTracks().forEach((t) => t.stop()); video.hidden = true; };
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const tick = () => {
    if (!live) return;
    detector.detect(video).then((codes) => {
      if (codes.length && live) { stop(); found(codes[0].rawValue); } else requestAnimationFrame(tick);
    }).catch(() => requestAnimationFrame(tick));
  };
  tick();
  return stop;
}
