"""The app's logic: views, tasks, admin and commands call these; these call the client."""
