"""``python -m stripe_emulator --port 5001 --webhook-url URL --webhook-secret whsec_...
--api-key sk_test_...`` (both secrets default to the site's FLASK_ environment variables)."""

import argparse
import logging
import os

from stripe_emulator import create_emulator


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m stripe_emulator",
        description="A fake Stripe for offline demos and tests. It never takes real payments.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--webhook-url", default="http://127.0.0.1:5000/stripe/webhook")
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("FLASK_STRIPE_WEBHOOK_SECRET"),
        help="the site's FLASK_STRIPE_WEBHOOK_SECRET (events are signed with it)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("FLASK_STRIPE_SECRET_KEY"),
        help="the site's FLASK_STRIPE_SECRET_KEY (sk_test_...): the only key it answers",
    )
    parser.add_argument(
        "--async-webhooks",
        action="store_true",
        help="send checkout.session.completed in the background, so it races the "
        "customer's redirect to the success page, as with Stripe",
    )
    args = parser.parse_args(argv)
    if not args.webhook_secret:
        parser.error("--webhook-secret (or FLASK_STRIPE_WEBHOOK_SECRET) is required")
    if not args.api_key or not args.api_key.startswith("sk_test_"):
        parser.error("--api-key (or FLASK_STRIPE_SECRET_KEY), a test key sk_test_..., is required")
    if os.environ.get("FLASK_ENV_NAME") == "production":
        parser.error("the Stripe emulator never runs with production settings")
    logging.basicConfig(level=logging.INFO, format="stripe-emulator: %(message)s")
    public_url = f"http://{args.host}:{args.port}"
    app = create_emulator(
        args.webhook_url,
        args.webhook_secret,
        public_url=public_url,
        async_webhooks=args.async_webhooks,
        api_key=args.api_key,
    )
    print(f"TEST PAYMENTS ONLY: Stripe emulator on {public_url} -> {args.webhook_url}")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
