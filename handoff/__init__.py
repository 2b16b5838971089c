"""The handoff service: cases the bot cannot resolve, for the City Council's
face-to-face centres to pick up, with the transcript and a reference the
caller can read out."""
