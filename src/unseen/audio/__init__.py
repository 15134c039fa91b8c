"""Sound: the voices heard in a video, disguised or silenced, and checked afterwards."""
