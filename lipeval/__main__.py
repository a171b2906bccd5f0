from lipeval.cli import main

raise SystemExit(main())
