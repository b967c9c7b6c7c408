from vj.cli import main

raise SystemExit(main())
