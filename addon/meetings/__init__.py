"""Meeting services behind one Provider interface: Jitsi, Webex and Zoom, their OAuth and their errors."""
