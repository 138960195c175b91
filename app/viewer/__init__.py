"""The viewer's model and render maths (no Qt): window/level, LUT rendering, MPR reslicing,
orientation labels, the pars hanging protocol, viewer state and the actions registry.

``app.ui.viewer`` turns the uint8 arrays produced here into QImages.
"""
