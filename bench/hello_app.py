"""The yardstick: the smallest Flask app, served by gunicorn exactly like the site.

``bench/pages.py`` reports each page's requests per second as a ratio to this app's.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
