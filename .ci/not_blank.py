"""Fails unless a screenshot has many colours (a blank page has one or two)."""
import sys
from PIL import Image

img = Image.open(sys.argv[1]).convert("RGB")
colours = {(r >> 4, g >> 4, b >> 4) for r, g, b in img.getdata()}
print(f"{sys.argv[1]}: {img.size[0]}x{img.size[1]}, {len(colours)} distinct colours")
sys.exit(0 if len(colours) >= 16 else 1)
