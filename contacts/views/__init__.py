"""The contacts app's pages: contacts (list, detail) and the custom-field registry."""
