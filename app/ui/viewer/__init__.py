"""Qt widgets of the viewer: SliceView (one viewport), ViewerGrid (layouts), overlays."""
