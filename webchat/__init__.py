"""The residents' web chat: a page, and an embed for a council's site, that
talk to the same bot as the phone line and the SMS number through this
service's own small endpoint (never Rasa's API, which stays internal).

It works without JavaScript as a plain form-and-page conversation; with
JavaScript the same page is live. The conversation survives a reload by a
signed, random session id in a cookie (nothing personal in it); what the
resident typed is redacted before this service keeps it, only in memory and
only for an hour of quiet, and never logged."""
