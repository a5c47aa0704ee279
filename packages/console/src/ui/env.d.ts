// Style sheets imported for the bundler (esbuild writes them into app.css).
declare module "*.css";
