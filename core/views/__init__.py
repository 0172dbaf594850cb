"""Views beyond one backward pass: paths, forward mode, Jacobians, second derivatives,
the matrix microscope and training.
"""
