/* The smallest static program to fork+exec in the exec benchmark. */
int main(void)
{
	return 0;
}
