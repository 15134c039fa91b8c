"""`unseen review`: a page on the loopback interface to check and correct what unseen found before anything is
written. command.py runs it, server.py serves it, security.py guards it, app.py routes it, session.py holds the
decisions and the work, images.py renders what the page shows; static/ is the page itself."""
