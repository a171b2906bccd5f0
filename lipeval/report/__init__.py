"""Result records -> leaderboards, figures and the regression gate (no torch anywhere here).

    runs.py      find result folders, read and check their records, refuse --limit runs
    table.py     the leaderboard: one row per run, columns per task x metric, group averages,
                 protocol / task-version mixing refused or split into marked columns; CSV I/O
    latex.py     booktabs table, best bold / second underlined, multi-level headers
    markdown.py  pipe table
    html.py      one self-contained page: tables + embedded figures
    plots.py     matplotlib figures (grouped bars per group, long vs short retrieval, loss curves)
    compare.py   baseline vs candidate differences and the CI gate's verdict
"""
