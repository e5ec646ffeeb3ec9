"""The public pages customers reach from mailed links (update a card, confirm a payment, pay an
invoice), under /p/, without logging in, in the store's language."""
