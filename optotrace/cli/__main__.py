from optotrace.cli import main

main()
