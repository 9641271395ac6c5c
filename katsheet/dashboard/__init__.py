"""The dashboard (`katsheet dashboard`) and the static transparency site (`katsheet report`): the
monthly cycle over a folder of months, in a browser. A shell around the cycle and the engines."""
