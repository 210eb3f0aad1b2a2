"""Command orders (指令) from the command centre or a district straight to the units that carry them out, and the live command screen (指挥大屏)."""
