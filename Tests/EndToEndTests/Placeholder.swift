// End-to-end tests run the built bouncer binary.
