import { redirect } from 'next/navigation';

/** The workers list is the home page. `redirect` adds the URL prefix (basePath) itself. */
export default function Home(): never {
  redirect('/workers');
}
