"""`unseen review`: a page on the loopback interface to check and correct what unseen found before anything is
written. command.py runs it (browser.py opens the browser without the secret in its arguments), server.py
serves it, security.py guards it, app.py routes it; session.py's Review puts together state.py (the decisions
and every edit), worker.py (the background search and check) and publishing.py; flags.py says which of the
check's faces are answered; images.py and frames.py render what the page shows; static/ is the page itself."""
