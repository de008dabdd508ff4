"""Card JSON for the add-on's sidebar: pure functions from view data to Google's card format."""
