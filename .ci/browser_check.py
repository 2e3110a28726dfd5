"""Opens a page in headless Chromium (software WebGL2), waits until a
JavaScript condition holds, prints a JavaScript value, and optionally saves a
screenshot. Exits 1 if the condition does not hold in time.

usage: browser_check.py URL --until JS [--print JS] [--screenshot OUT.png] [--timeout S]
                        [--keys d,b,shift+l --after S]

--keys presses keys once the condition holds (after a click on the page's
centre and focusing the canvas, so it has the keyboard), then waits --after seconds.
"""
import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # pip install websocket-client

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("--until", required=True)
ap.add_argument("--print", dest="show")
ap.add_argument("--screenshot")
ap.add_argument("--timeout", type=float, default=90)
ap.add_argument("--size", default="1440,900")
ap.add_argument("--keys", default="")
ap.add_argument("--after", type=float, default=3)
a = ap.parse_args()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
profile = tempfile.mkdtemp()
chrome = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--use-angle=swiftshader", "--enable-unsafe-swiftshader", f"--window-size={a.size}",
     f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "--remote-allow-origins=*", a.url],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    page = None
    for _ in range(150):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
            page = next(t for t in targets if t.get("type") == "page")
            break
        except Exception:
            time.sleep(0.2)
    if page is None:
        sys.exit("chromium did not start")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
    seq = [0]
    console = []

    def call(method, **params):
        seq[0] += 1
        ws.send(json.dumps({"id": seq[0], "method": method, "params": params}))
        while True:
            m = json.loads(ws.recv())
            if m.get("method") == "Runtime.consoleAPICalled":
                console.append(" ".join(str(x.get("value", x.get("description", ""))) for x in m["params"]["args"]))
            if m.get("method") == "Runtime.exceptionThrown":
                d = m["params"]["exceptionDetails"]
                console.append("exception: " + str(d.get("exception", {}).get("description", d.get("text"))))
            if m.get("id") == seq[0]:
                return m.get("result", {})

    def js(expr):
        r = call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return r.get("result", {}).get("value")

    call("Runtime.enable")
    start = time.time()
    ok = False
    while time.time() - start < a.timeout:
        try:
            if js(a.until):
                ok = True
                break
        except Exception:
            pass
        time.sleep(0.5)
    elapsed = time.time() - start
    if ok and a.keys:
        w, h = (int(x) for x in a.size.split(","))
        for t in ("mousePressed", "mouseReleased"):
            call("Input.dispatchMouseEvent", type=t, x=w * 0.45, y=h * 0.45, button="left", clickCount=1)
        js("document.querySelector('canvas') && document.querySelector('canvas').focus()")
        for combo in a.keys.split(","):
            *mods, key = combo.split("+")
            m = (8 if "shift" in mods else 0) | (2 if "ctrl" in mods else 0)
            k = key.upper() if "shift" in mods else key
            vk = ord(key.upper()) if len(key) == 1 else {"F1": 112, "Escape": 27, "Delete": 46}[key]
            code = f"Key{key.upper()}" if len(key) == 1 and key.isalpha() else key
            held = [(n, c, v) for n, c, v, bit in (("Shift", "ShiftLeft", 16, 8), ("Control", "ControlLeft", 17, 2)) if m & bit]
            for n, c, v in held:  # a real keyboard presses the modifier first
                call("Input.dispatchKeyEvent", type="rawKeyDown", key=n, code=c, modifiers=m, windowsVirtualKeyCode=v)
            for t in ("keyDown", "keyUp"):
                extra = {"text": k} if t == "keyDown" and len(key) == 1 and not m & 2 else {}
                call("Input.dispatchKeyEvent", type=t, key=k, code=code, modifiers=m,
                     windowsVirtualKeyCode=vk, **extra)
            for n, c, v in held:
                call("Input.dispatchKeyEvent", type="keyUp", key=n, code=c, modifiers=0, windowsVirtualKeyCode=v)
            time.sleep(0.7)
        time.sleep(a.after)
    for line in console:
        print("console:", line)
    if a.show:
        print(js(a.show))
    if a.screenshot:
        shot = call("Page.captureScreenshot", format="png")
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    print(f"condition {'held' if ok else 'did NOT hold'} after {elapsed:.1f} s: {a.until}")
    sys.exit(0 if ok else 1)
finally:
    chrome.kill()
    shutil.rmtree(profile, ignore_errors=True)
