"""Prints the URL fragment that shares a topology (as the page's share button
makes it: raw DEFLATE, base64url without padding, after `t=`)."""
import base64
import sys
import zlib

text = open(sys.argv[1], "rb").read()
c = zlib.compressobj(9, zlib.DEFLATED, -15)
packed = c.compress(text) + c.flush()
print("t=" + base64.urlsafe_b64encode(packed).decode().rstrip("="))
