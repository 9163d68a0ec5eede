"""`python -m rsx`: see `rsx.app`."""

from rsx.app import main

if __name__ == "__main__":
    main()
