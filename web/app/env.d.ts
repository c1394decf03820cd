/** Vite's `?url` imports: the asset's hashed, same-origin URL. */
declare module '*?url' {
  const url: string;
  export default url;
}
