from enos.cli import main

main()
