"""The council bot's custom actions (Rasa SDK). Run with
`rasa run actions --actions actions`; every module here is loaded."""
