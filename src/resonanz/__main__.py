from resonanz.cli import main

raise SystemExit(main())
