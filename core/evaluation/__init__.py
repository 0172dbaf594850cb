"""Running a Program with torch.autograd: the operations, their cost estimates and time limits,
and graphs from the user's own PyTorch code seen the same way.
"""
