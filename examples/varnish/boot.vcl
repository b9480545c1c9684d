vcl 4.1;

# The VCL varnishd starts with before the first deploy. cutover replaces this file with the
# VCL it activates after every move, so a restarted varnishd serves what was live.
backend default none;
