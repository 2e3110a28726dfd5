"""Fails unless a screenshot has many colours (a blank page has one or two)."""
import sys
from PIL import Image

img = Image.open(sys.argv[1]).convert("RGB")
pixels = img.get_flattened_data() if hasattr(img, "get_flattened_data") else img.getdata()
colours = {(r >> 4, g >> 4, b >> 4) for r, g, b in pixels}
print(f"{sys.argv[1]}: {img.size[0]}x{img.size[1]}, {len(colours)} distinct colours")
sys.exit(0 if len(colours) >= 16 else 1)
